namespace MetadataProxy.Node;

/// <summary>
/// The node's own Google identity: a Kubernetes ServiceAccount (<c>Identity:NodeServiceAccount</c>, else the server's
/// own), and what its tokens are bound to — the server's own pod (<c>POD_*</c> from the downward API) when the account
/// is the server's, else this Node object.
/// </summary>
internal sealed class NodeIdentityOptions
{
    /// <summary><c>NAMESPACE/NAME</c>; empty: the server's own ServiceAccount.</summary>
    public string? ServiceAccount { get; set; }

    public string? PodName { get; set; }

    public string? PodUid { get; set; }

    public string? PodNamespace { get; set; }

    public string? PodServiceAccount { get; set; }

    /// <summary>Whether anything serves the node identity (the node socket, or <c>HostNetworkPolicy=NodeIdentity</c>).</summary>
    public bool Wanted { get; set; }

    /// <summary>The account whose identity is the node's, or null when neither configuration nor the downward API names one.</summary>
    public (string Namespace, string Name)? Account
    {
        get
        {
            if (!string.IsNullOrWhiteSpace(ServiceAccount))
            {
                var parts = ServiceAccount.Trim().Split('/');
                return parts is [var ns, var name] ? (ns, name) : null;
            }

            return string.IsNullOrEmpty(PodNamespace) || string.IsNullOrEmpty(PodServiceAccount) ? null : (PodNamespace, PodServiceAccount);
        }
    }

    /// <summary>The server's own account: its tokens are bound to the server's pod, and die with it.</summary>
    public bool BindsToOwnPod => Account is { } account && account == (PodNamespace, PodServiceAccount);
}
