using System.Text.Json.Serialization;

namespace MetadataProxy.CredentialProvider.Tokens;

/// <summary>The GCE token JSON both the node socket and the metadata API answer with.</summary>
internal sealed class TokenAnswer
{
    [JsonPropertyName("access_token")]
    public string? AccessToken { get; set; }

    [JsonPropertyName("expires_in")]
    public long? ExpiresIn { get; set; }

    [JsonPropertyName("token_type")]
    public string? TokenType { get; set; }
}
