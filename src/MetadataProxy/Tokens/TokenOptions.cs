namespace MetadataProxy.Tokens;

internal sealed class TokenOptions
{
    public const string Section = "Tokens";

    /// <summary>TK-10, G-21: an upstream call that takes longer answers 503, inside Python's 3 s budget.</summary>
    public TimeSpan UpstreamDeadline { get; set; } = TimeSpan.FromSeconds(2.5);

    /// <summary>Lifetime asked for the pod-bound Kubernetes service-account token (the API server's minimum is 10 minutes).</summary>
    public TimeSpan KsaTokenLifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Concurrent exchanges with Google (STS and IAM Credentials) at most, shared round-robin between accounts.</summary>
    public int MaxConcurrentGoogleCalls { get; set; } = 16;

    /// <summary>Fetches one Kubernetes service account may have queued or running at once; past it, 429.</summary>
    public int MaxFetchesPerAccount { get; set; } = 4;

    /// <summary>New cache keys (scope sets, audiences) one Kubernetes service account may open at once; past it, 429.</summary>
    public int NewKeysPerAccountBurst { get; set; } = 16;

    /// <summary>The rate at which an account's new-key budget refills.</summary>
    public int NewKeysPerAccountPerMinute { get; set; } = 30;

    /// <summary>
    /// How long a key's "Google unavailable" answer is repeated instead of asking again (when no token is held): the
    /// Retry-After clients are given, so the client's next try goes to Google.
    /// </summary>
    public TimeSpan UnavailableMemory { get; set; } = TimeSpan.FromSeconds(1);
}
