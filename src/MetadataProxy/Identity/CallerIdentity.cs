namespace MetadataProxy.Identity;

/// <summary>
/// Who is calling: the Kubernetes service account a request runs as and the Google identity it maps to.
/// <see cref="PodUid"/> binds the answer to one pod (null in standalone mode, where there is no pod).
/// </summary>
internal sealed record CallerIdentity(
    string Namespace,
    string KubernetesServiceAccount,
    string? GoogleServiceAccount,
    IReadOnlyList<string> Scopes)
{
    public static readonly IReadOnlyList<string> DefaultScopes =
    [
        "https://www.googleapis.com/auth/cloud-platform",
        "https://www.googleapis.com/auth/userinfo.email",
    ];

    public string? PodName { get; init; }

    public string? PodUid { get; init; }

    /// <summary>The node itself (the node socket, or a host caller under <c>HostNetworkPolicy=NodeIdentity</c>), not a pod.</summary>
    public bool IsNode { get; init; }

    /// <summary>A node identity whose account is not the server's: its tokens are bound to this Node object instead of a pod.</summary>
    public string? BoundNodeName { get; init; }

    public string? BoundNodeUid { get; init; }

    /// <summary>The ServiceAccount object's UID: a recreated account is a different identity.</summary>
    public string? ServiceAccountUid { get; init; }

    /// <summary><c>iam.gke.io/return-principal-id-as-email</c>.</summary>
    public bool ReturnPrincipalIdAsEmail { get; init; }

    /// <summary>Sent as the quota project on Google calls (<c>iam.gke.io/credential-quota-project</c>).</summary>
    public string? QuotaProject { get; init; }

    public override string ToString() => $"{Namespace}/{KubernetesServiceAccount}";
}
