using System.Net;

namespace MetadataProxy.Pods;

/// <summary>What the index keeps of a pod: enough to decide liveness and identity, nothing else.</summary>
internal sealed record PodRecord(
    string Uid,
    string Namespace,
    string Name,
    string ServiceAccount,
    IReadOnlyList<IPAddress> Addresses,
    string? Phase,
    bool HostNetwork,
    bool Terminating)
{
    /// <summary>The kubelet reported every container as terminated: nothing of the pod can still call.</summary>
    public bool ContainersStopped { get; init; }

    /// <summary>
    /// Decision 2: the pod's containers may be running, so it may call from its addresses. Succeeded/Failed pods,
    /// hostNetwork pods and terminating pods whose containers have all stopped are not live. A terminating pod whose
    /// containers still run (its shutdown hooks) is live, but yields its address to any other live claimant
    /// (<see cref="AddressOwners"/>).
    /// </summary>
    public bool IsLive => !HostNetwork && Phase is not ("Succeeded" or "Failed") && !(Terminating && ContainersStopped);

    /// <summary>Live, not being deleted, and without an address yet: the CNI may be about to hand it any address
    /// a terminating pod is releasing.</summary>
    public bool AwaitsAddress => IsLive && !Terminating && Addresses.Count == 0;

    public bool IsRunning => Phase == "Running";

    public override string ToString() => $"{Namespace}/{Name} (uid {Uid})";
}
