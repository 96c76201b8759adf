namespace MetadataProxy.Identity;

/// <summary>How Kubernetes mode decides who is calling (<c>Identity:*</c>).</summary>
internal sealed class IdentityOptions
{
    public const string Section = "Identity";

    /// <summary>How long a request from an unknown address waits for the pod to appear, well inside the 3 s client budget.</summary>
    public TimeSpan LookupWait { get; set; } = TimeSpan.FromSeconds(1.5);

    public HostNetworkPolicy HostNetworkPolicy { get; set; } = HostNetworkPolicy.Deny;

    /// <summary><c>NAMESPACE/NAME</c> of the ServiceAccount whose Google identity is the node's; empty: the server's own.</summary>
    public string? NodeServiceAccount { get; set; }

    /// <summary>How old a ServiceAccount's annotations may be before they are read again.</summary>
    public TimeSpan ServiceAccountCacheTtl { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// While the watch is broken and the API server cannot confirm a caller, the index still answers for pods it
    /// knows for this long after its last contact; then it refuses (the address may belong to a new pod by now).
    /// While the API server is unreachable no new pod can be bound to the node, so an address cannot pass to a pod
    /// the index has never seen: two minutes carries known pods across a typical control-plane outage.
    /// </summary>
    public TimeSpan IndexStalenessLimit { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Concurrent calls to the Kubernetes API from the request path (lists, ServiceAccount reads, TokenRequests).</summary>
    public int MaxConcurrentApiCalls { get; set; } = 8;
}
