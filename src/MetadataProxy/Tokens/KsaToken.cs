namespace MetadataProxy.Tokens;

/// <summary>The outcome of a TokenRequest for a caller's Kubernetes service account.</summary>
internal abstract record KsaToken
{
    /// <summary>A JWT bound to the pod: it stops being valid when the pod is deleted.</summary>
    public sealed record Issued(string Jwt, DateTimeOffset ExpiresAt) : KsaToken;

    /// <summary>The API server refused: the pod is gone or replaced (404, 409) or does not run as that account (400).</summary>
    public sealed record Refused(string Reason) : KsaToken;

    /// <summary>The API server could not be asked: retryable.</summary>
    public sealed record Unavailable(string Reason) : KsaToken;
}
