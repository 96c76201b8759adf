using System.Collections.Immutable;
using System.Net;

namespace MetadataProxy.Kubernetes;

internal sealed record NodeFacts(ImmutableHashSet<IPAddress> Addresses, string? Zone, string? Hostname, string? Uid = null)
{
    public bool Equals(NodeFacts? other) =>
        other is not null && Addresses.SetEquals(other.Addresses) && Zone == other.Zone && Hostname == other.Hostname && Uid == other.Uid;

    public override int GetHashCode() => HashCode.Combine(Addresses.Count, Zone, Hostname, Uid);
}
