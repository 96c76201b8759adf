namespace MetadataProxy.Identity;

internal enum HostNetworkPolicy
{
    /// <summary>Callers in the node's network namespace get 403: no node identity is ever served from the pod path.</summary>
    Deny,
}
