namespace MetadataProxy.Tokens;

internal abstract record TokenOutcome
{
    public sealed record AccessToken(string Value, DateTimeOffset ExpiresAt) : Issued(ExpiresAt);

    /// <summary>A compact JWS; <see cref="Issued.ExpiresAt"/> is its <c>exp</c> claim.</summary>
    public sealed record IdToken(string Jwt, DateTimeOffset ExpiresAt) : Issued(ExpiresAt);

    public sealed record Refused(TokenRefusal Reason, string Message) : TokenOutcome;

    /// <summary>A token that was issued and when it stops working.</summary>
    public abstract record Issued(DateTimeOffset ExpiresAt) : TokenOutcome;
}
