namespace MetadataProxy.Tokens;

internal abstract record TokenOutcome
{
    public sealed record AccessToken(string Value, DateTimeOffset ExpiresAt) : Issued(ExpiresAt);

    /// <summary>A compact JWS; <see cref="Issued.ExpiresAt"/> is its <c>exp</c> claim.</summary>
    public sealed record IdToken(string Jwt, DateTimeOffset ExpiresAt) : Issued(ExpiresAt);

    /// <summary>No token; <paramref name="RetryAfter"/> when the refusal says when asking again can succeed.</summary>
    public sealed record Refused(TokenRefusal Reason, string Message, TimeSpan? RetryAfter = null) : TokenOutcome;

    /// <summary>A token that was issued and when it stops working.</summary>
    public abstract record Issued(DateTimeOffset ExpiresAt) : TokenOutcome;
}
