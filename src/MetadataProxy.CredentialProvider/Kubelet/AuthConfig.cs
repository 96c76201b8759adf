using System.Text.Json.Serialization;

namespace MetadataProxy.CredentialProvider.Kubelet;

/// <summary>credentialprovider.kubelet.k8s.io/v1 AuthConfig: a username and password for one registry key.</summary>
internal sealed record AuthConfig(
    [property: JsonPropertyName("username")] string Username,
    [property: JsonPropertyName("password")] string Password)
{
    public override string ToString() => $"AuthConfig {{ Username = {Username} }}";
}
