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
    /// <summary>Decision 2: Succeeded/Failed pods, pods being deleted and hostNetwork pods never own an address.</summary>
    public bool IsLive => !HostNetwork && !Terminating && Phase is not ("Succeeded" or "Failed");

    public bool IsRunning => Phase == "Running";

    public override string ToString() => $"{Namespace}/{Name} (uid {Uid})";
}
