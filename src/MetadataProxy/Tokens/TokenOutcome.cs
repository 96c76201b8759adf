namespace MetadataProxy.Tokens;

internal abstract record TokenOutcome
{
    public sealed record AccessToken(string Value, DateTimeOffset ExpiresAt) : TokenOutcome;

    public sealed record IdToken(string Jwt) : TokenOutcome;

    public sealed record Refused(TokenRefusal Reason, string Message) : TokenOutcome;
}
