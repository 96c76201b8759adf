using System.Text.Json.Serialization;

namespace MetadataProxy.CredentialProvider.Tokens;

/// <summary>The body of POST /registry/v1/pod-token: the kubelet's KSA token and annotations, passed through untouched.</summary>
internal sealed class PodTokenRequest
{
    [JsonPropertyName("serviceAccountToken")]
    public required string ServiceAccountToken { get; init; }

    [JsonPropertyName("serviceAccountAnnotations")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyDictionary<string, string>? ServiceAccountAnnotations { get; init; }

    [JsonPropertyName("image")]
    public required string Image { get; init; }
}
