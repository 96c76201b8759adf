using System.Collections.Immutable;

namespace MetadataProxy.Pods;

/// <summary>Who owns an address on this node, as far as the index can tell.</summary>
internal abstract record AddressOwner
{
    private AddressOwner()
    {
    }

    /// <summary>One pod owns it; <see cref="PodRecord.Terminating"/> says whether it is shutting down.</summary>
    public sealed record One(PodRecord Pod) : AddressOwner;

    /// <summary>No live pod claims it.</summary>
    public sealed record Nobody : AddressOwner;

    /// <summary>Several live pods claim it: never guess.</summary>
    public sealed record Ambiguous(ImmutableArray<PodRecord> Pods) : AddressOwner;

    /// <summary>Only a terminating pod claims it while other pods on the node wait for an address: the CNI may
    /// already have handed this one to one of them, so the terminating pod's claim cannot be trusted.</summary>
    public sealed record Contended(PodRecord Terminating, ImmutableArray<PodRecord> Waiting) : AddressOwner;
}
