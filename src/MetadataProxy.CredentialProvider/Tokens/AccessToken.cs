namespace MetadataProxy.CredentialProvider.Tokens;

/// <summary>A Google access token and the seconds it had left when the server answered.</summary>
internal sealed record AccessToken(string Value, long ExpiresInSeconds)
{
    // The token must never reach a log line through a record's generated ToString.
    public override string ToString() => $"AccessToken {{ ExpiresInSeconds = {ExpiresInSeconds} }}";
}
