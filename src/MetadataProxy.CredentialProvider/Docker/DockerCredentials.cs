using System.Text.Json.Serialization;

namespace MetadataProxy.CredentialProvider.Docker;

/// <summary>The docker-credential-helpers answer to get, with its Go field names.</summary>
internal sealed record DockerCredentials(
    [property: JsonPropertyName("ServerURL")] string ServerUrl,
    [property: JsonPropertyName("Username")] string Username,
    [property: JsonPropertyName("Secret")] string Secret)
{
    public override string ToString() => $"DockerCredentials {{ ServerUrl = {ServerUrl}, Username = {Username} }}";
}
