using System.Collections.Immutable;
using System.Net;

namespace MetadataProxy.Kubernetes;

/// <summary>
/// What this node's Node object says: its addresses (callers from them are the node itself) and the labels that
/// fill <c>instance/zone</c> and <c>hostname</c> where configuration is silent.
/// </summary>
internal sealed class NodeInfo
{
    public const string ZoneLabel = "topology.kubernetes.io/zone";
    public const string HostnameLabel = "kubernetes.io/hostname";

    private volatile NodeFacts _facts = new(ImmutableHashSet<IPAddress>.Empty, null, null);

    public NodeFacts Facts
    {
        get => _facts;
        set => _facts = value;
    }

    public bool IsNodeAddress(IPAddress address) => _facts.Addresses.Contains(address);
}
