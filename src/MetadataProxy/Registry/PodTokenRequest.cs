using System.Text.Json;

namespace MetadataProxy.Registry;

/// <summary>
/// What the credential provider plugin forwards from the kubelet's CredentialProviderRequest (KEP-4412): the pulling
/// pod's service-account token and the ServiceAccount annotations the kubelet was told to pass on.
/// </summary>
internal sealed record PodTokenRequest(string ServiceAccountToken, IReadOnlyDictionary<string, string> Annotations)
{
    public const int MaxBodyBytes = 64 * 1024;
    private const int MaxTokenLength = 16 * 1024;

    /// <summary>The request, or null and a sentence saying what is wrong with the body.</summary>
    public static PodTokenRequest? Parse(ReadOnlySpan<byte> body, out string? problem)
    {
        problem = null;
        try
        {
            using var document = JsonDocument.Parse(body.ToArray());
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                return Fail("the body must be a JSON object", out problem);
            if (!root.TryGetProperty("serviceAccountToken", out var token) || token.ValueKind != JsonValueKind.String || token.GetString() is not { Length: > 0 } jwt)
                return Fail("serviceAccountToken (a non-empty string) is required", out problem);
            if (jwt.Length > MaxTokenLength || jwt.Count(c => c == '.') != 2)
                return Fail("serviceAccountToken is not a JSON Web Token", out problem);

            var annotations = new Dictionary<string, string>(StringComparer.Ordinal);
            if (root.TryGetProperty("serviceAccountAnnotations", out var given) && given.ValueKind != JsonValueKind.Null)
            {
                if (given.ValueKind != JsonValueKind.Object)
                    return Fail("serviceAccountAnnotations must be an object of strings", out problem);
                foreach (var annotation in given.EnumerateObject())
                {
                    if (annotation.Value.ValueKind != JsonValueKind.String)
                        return Fail($"serviceAccountAnnotations[{annotation.Name}] must be a string", out problem);
                    annotations[annotation.Name] = annotation.Value.GetString()!;
                }
            }

            return new PodTokenRequest(jwt, annotations);
        }
        catch (JsonException e)
        {
            return Fail($"the body is not JSON ({e.Message})", out problem);
        }
    }

    private static PodTokenRequest? Fail(string message, out string? problem)
    {
        problem = message;
        return null;
    }

    // Never the token itself: this record reaches logs only through this.
    public override string ToString() => $"PodTokenRequest {{ {Annotations.Count} annotation(s) }}";
}
