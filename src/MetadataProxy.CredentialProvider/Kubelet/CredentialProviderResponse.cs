using System.Text.Json.Serialization;

namespace MetadataProxy.CredentialProvider.Kubelet;

/// <summary>
/// credentialprovider.kubelet.k8s.io/v1 CredentialProviderResponse with exactly its documented fields, in its order:
/// the kubelet decodes strictly, so an extra field would cost the whole answer.
/// </summary>
internal sealed class CredentialProviderResponse
{
    [JsonPropertyName("kind")]
    public string Kind { get; init; } = ApiVersions.ResponseKind;

    [JsonPropertyName("apiVersion")]
    public required string ApiVersion { get; init; }

    /// <summary>Registry: one token serves every image of a registry, so the kubelet caches per registry.</summary>
    [JsonPropertyName("cacheKeyType")]
    public string CacheKeyType { get; init; } = "Registry";

    /// <summary>A Go duration string (metav1.Duration); "0s" tells the kubelet not to cache.</summary>
    [JsonPropertyName("cacheDuration")]
    public required string CacheDuration { get; init; }

    [JsonPropertyName("auth")]
    public required Dictionary<string, AuthConfig> Auth { get; init; }
}
