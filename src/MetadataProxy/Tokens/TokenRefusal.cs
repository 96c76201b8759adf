namespace MetadataProxy.Tokens;

internal enum TokenRefusal
{
    /// <summary>The identity has no Google service account, which this credential needs (ID-5).</summary>
    NoGoogleServiceAccount,

    /// <summary>Google refused (permission, invalid grant): not retryable.</summary>
    UpstreamRejected,

    /// <summary>Google did not answer in time or failed: retryable.</summary>
    UpstreamUnavailable,

    /// <summary>The caller's Kubernetes service account is over its share of new keys or fetches (429, Retry-After).</summary>
    Throttled,

    /// <summary>The server has no credentials to mint tokens with.</summary>
    NotConfigured,
}
