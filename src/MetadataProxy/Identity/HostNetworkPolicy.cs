namespace MetadataProxy.Identity;

internal enum HostNetworkPolicy
{
    /// <summary>Callers in the node's network namespace get 403: no node identity is ever served from the pod path.</summary>
    Deny,

    /// <summary>
    /// Callers from the node's own addresses (host processes, hostNetwork pods) get the node identity, as on GKE. Every
    /// process on the node, and every hostNetwork pod, can then act as the node.
    /// </summary>
    NodeIdentity,
}
