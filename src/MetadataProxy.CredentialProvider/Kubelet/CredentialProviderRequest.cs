using System.Text.Json.Serialization;

namespace MetadataProxy.CredentialProvider.Kubelet;

/// <summary>credentialprovider.kubelet.k8s.io/v1 CredentialProviderRequest, as the kubelet writes it to standard input.</summary>
internal sealed class CredentialProviderRequest
{
    [JsonPropertyName("apiVersion")]
    public string? ApiVersion { get; set; }

    [JsonPropertyName("kind")]
    public string? Kind { get; set; }

    [JsonPropertyName("image")]
    public string? Image { get; set; }

    /// <summary>KEP-4412: present only when the provider's tokenAttributes ask for it.</summary>
    [JsonPropertyName("serviceAccountToken")]
    public string? ServiceAccountToken { get; set; }

    [JsonPropertyName("serviceAccountAnnotations")]
    public Dictionary<string, string>? ServiceAccountAnnotations { get; set; }
}
