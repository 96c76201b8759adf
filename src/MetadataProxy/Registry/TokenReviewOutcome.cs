namespace MetadataProxy.Registry;

/// <summary>What Kubernetes said of a token handed to the server.</summary>
internal abstract record TokenReviewOutcome
{
    /// <summary>A live pod's token: its ServiceAccount (with the account's UID) and the pod it is bound to.</summary>
    public sealed record Reviewed(string Namespace, string ServiceAccount, string? ServiceAccountUid, string PodName, string PodUid) : TokenReviewOutcome;

    /// <summary>Not a token of a live pod's ServiceAccount, for this audience, on this node: refused.</summary>
    public sealed record Rejected(string Reason) : TokenReviewOutcome;

    /// <summary>The API server could not be asked: retryable.</summary>
    public sealed record Unavailable(string Reason) : TokenReviewOutcome;
}
