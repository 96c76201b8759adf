using MetadataProxy.CredentialProvider.Cli;
using MetadataProxy.CredentialProvider.Registries;
using MetadataProxy.CredentialProvider.Tokens;

namespace MetadataProxy.CredentialProvider.Kubelet;

/// <summary>
/// The kubelet plugin: a request without a KSA token gets the node identity's token; with one (KEP-4412), the server
/// exchanges the pulling pod's token for that pod's own Google identity. An image on a registry none of the patterns
/// covers is refused before any token is asked for, as the Docker helper refuses one: the kubelet's matchImages is
/// configured elsewhere, and a broad one ("*") must not send Google tokens to any registry.
/// </summary>
internal sealed class GetCredentialsCommand(TokenEndpoint nodeSocket, IReadOnlyList<RegistryPattern> patterns)
{
    public const string NodeTokenPath = "/registry/v1/node-token";
    public const string PodTokenPath = "/registry/v1/pod-token";

    public async Task<Result<CredentialProviderResponse>> RunAsync(byte[] input, CancellationToken cancellationToken)
    {
        var request = RequestReader.Read(input);
        if (!request.Succeeded)
            return request.Failure;
        var host = ImageReference.RegistryHost(request.Value.Image);
        if (!host.Succeeded)
            return host.Failure;
        if (!patterns.Any(p => p.MatchesImage(host.Value, ImageReference.PathAfterHost(request.Value.Image))))
            return Failure.Refused(
                $"image {request.Value.Image} is on registry {host.Value}, which none of the registry patterns covers ({string.Join(", ", patterns.Select(p => p.Text))}); " +
                $"no Google token is sent to it. Add it with --registry or {RegistryPatterns.EnvironmentVariable} if it should get one, and keep the kubelet's matchImages to these registries");

        var client = new TokenClient(nodeSocket);
        var token = request.Value.ServiceAccountToken is { } serviceAccountToken
            ? await client.PostAsync(
                PodTokenPath,
                new PodTokenRequest
                {
                    ServiceAccountToken = serviceAccountToken,
                    ServiceAccountAnnotations = request.Value.ServiceAccountAnnotations,
                    Image = request.Value.Image,
                },
                cancellationToken)
            : await client.GetAsync(NodeTokenPath, cancellationToken);
        if (!token.Succeeded)
            return token.Failure;

        return Result<CredentialProviderResponse>.Success(
            ResponseBuilder.Build(request.Value.ApiVersion, host.Value, patterns, token.Value));
    }
}
