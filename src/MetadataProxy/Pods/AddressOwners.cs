using System.Collections.Immutable;

namespace MetadataProxy.Pods;

/// <summary>
/// The ownership rule of an address (issue 9, rows 6 and 7), a pure function of what the index holds:
/// one live pod that is not being deleted owns it, whatever terminating pods still claim it; several such pods
/// are ambiguous; a terminating pod whose containers still run keeps it only while no other pod claims it and
/// no pod on the node is waiting for an address (the kubelet releases an address only after the old pod's
/// containers stop, and a pod must be on the node, without an IP, before the CNI can hand the address to it).
/// </summary>
internal static class AddressOwners
{
    public static AddressOwner Decide(ImmutableArray<PodRecord> claimants, ImmutableArray<PodRecord> awaitingAddress)
    {
        var live = claimants.Where(p => p.IsLive && !p.Terminating).ToImmutableArray();
        if (live.Length == 1)
            return new AddressOwner.One(live[0]);
        if (live.Length > 1)
            return new AddressOwner.Ambiguous(live);

        var terminating = claimants.Where(p => p.IsLive && p.Terminating).ToImmutableArray();
        if (terminating.IsEmpty)
            return new AddressOwner.Nobody();
        if (terminating.Length > 1)
            return new AddressOwner.Ambiguous(terminating);
        return awaitingAddress.IsEmpty ? new AddressOwner.One(terminating[0]) : new AddressOwner.Contended(terminating[0], awaitingAddress);
    }
}
