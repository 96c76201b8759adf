using System.Text.Json;
using MetadataProxy.CredentialProvider.Cli;
using MetadataProxy.CredentialProvider.Json;

namespace MetadataProxy.CredentialProvider.Kubelet;

/// <summary>Standard input → <see cref="KubeletRequest"/>, with a sentence for each way it can be wrong (never the token's value).</summary>
internal static class RequestReader
{
    public static Result<KubeletRequest> Read(ReadOnlySpan<byte> input)
    {
        if (IsBlank(input))
            return Failure.BadInput($"standard input is empty: expected a {ApiVersions.RequestKind} in JSON");

        // Syntax first, on its own: a syntax error's message can quote the input (an unquoted literal), and the input
        // may hold the pod's KSA token, so only the position is reported.
        var syntax = new Utf8JsonReader(input);
        try
        {
            var first = true;
            while (syntax.Read())
            {
                if (first && syntax.TokenType != JsonTokenType.StartObject)
                    return Failure.BadInput($"standard input is not a {ApiVersions.RequestKind}: expected a JSON object");
                first = false;
            }
        }
        catch (JsonException e)
        {
            return Failure.BadInput($"standard input is not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1})");
        }

        CredentialProviderRequest? request;
        try
        {
            request = JsonSerializer.Deserialize(input, ProviderJsonContext.Default.CredentialProviderRequest);
        }
        catch (JsonException e)
        {
            // The syntax is valid, so this is a value of the wrong type; its path says which field.
            return Failure.BadInput($"standard input is not a valid {ApiVersions.RequestKind}: {e.Path ?? "$"} has the wrong JSON type");
        }

        return Validate(request!);
    }

    private static Result<KubeletRequest> Validate(CredentialProviderRequest request)
    {
        if (string.IsNullOrEmpty(request.ApiVersion))
            return Failure.BadInput($"the request has no apiVersion; expected {ApiVersions.V1}");
        if (!ApiVersions.IsSupported(request.ApiVersion))
            return Failure.BadInput($"apiVersion {request.ApiVersion} is not supported; this plugin speaks {ApiVersions.V1} (and {ApiVersions.V1Beta1}, {ApiVersions.V1Alpha1})");
        if (request.Kind != ApiVersions.RequestKind)
            return Failure.BadInput($"kind is '{request.Kind}'; expected {ApiVersions.RequestKind}");
        if (string.IsNullOrEmpty(request.Image))
            return Failure.BadInput("the request has no image");

        var token = string.IsNullOrEmpty(request.ServiceAccountToken) ? null : request.ServiceAccountToken;
        if (!ApiVersions.HasServiceAccountFields(request.ApiVersion) && (token is not null || request.ServiceAccountAnnotations is not null))
            return Failure.BadInput($"serviceAccountToken and serviceAccountAnnotations exist only in {ApiVersions.V1}; configure the provider with apiVersion {ApiVersions.V1}");

        return Result<KubeletRequest>.Success(new KubeletRequest(request.ApiVersion, request.Image, token, request.ServiceAccountAnnotations));
    }

    private static bool IsBlank(ReadOnlySpan<byte> input)
    {
        foreach (var b in input)
        {
            if (b is not ((byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n'))
                return false;
        }

        return true;
    }
}
