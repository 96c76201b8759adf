namespace MetadataProxy.Tokens;

/// <summary>An issued token and when the cache received it.</summary>
internal sealed record CachedToken(TokenOutcome.Issued Token, DateTimeOffset IssuedAt)
{
    public DateTimeOffset ExpiresAt => Token.ExpiresAt;

    public TimeSpan Lifetime => ExpiresAt - IssuedAt;
}
