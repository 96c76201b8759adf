using k8s.Models;
using MetadataProxy.Kubernetes;
using Microsoft.Extensions.Options;

namespace MetadataProxy.Operations;

/// <summary>
/// A Warning Event on the pod when the server refuses it for a reason its owner can fix (a bad annotation, a
/// missing binding, a duplicated IP), so `kubectl describe pod` says why its credentials fail. Queued on
/// <see cref="WarningEvents"/> (at most one per pod and reason every few minutes): it never delays or changes an answer.
/// </summary>
internal sealed class RefusalEvents(WarningEvents events, IOptions<KubernetesOptions> options)
{
    public void Report(string ns, string podName, string podUid, string reason, string message)
    {
        var node = options.Value.NodeName;
        events.Report(
            new V1ObjectReference { ApiVersion = "v1", Kind = "Pod", Name = podName, NamespaceProperty = ns, Uid = podUid },
            reason,
            message,
            new V1EventSource { Component = "metadata-proxy", Host = node },
            node);
    }
}
