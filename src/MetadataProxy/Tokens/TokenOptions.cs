namespace MetadataProxy.Tokens;

internal sealed class TokenOptions
{
    public const string Section = "Tokens";

    /// <summary>TK-10, G-21: an upstream call that takes longer answers 503, inside Python's 3 s budget.</summary>
    public TimeSpan UpstreamDeadline { get; set; } = TimeSpan.FromSeconds(2.5);

    /// <summary>Lifetime asked for the pod-bound Kubernetes service-account token (the API server's minimum is 10 minutes).</summary>
    public TimeSpan KsaTokenLifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Concurrent exchanges with Google (STS and IAM Credentials) at most.</summary>
    public int MaxConcurrentGoogleCalls { get; set; } = 16;
}
