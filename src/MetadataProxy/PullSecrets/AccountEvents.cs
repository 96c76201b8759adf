using k8s.Models;
using MetadataProxy.Operations;

namespace MetadataProxy.PullSecrets;

/// <summary>
/// A Warning Event on the ServiceAccount when its pull Secret is refused for a reason its owner can fix, so
/// <c>kubectl describe serviceaccount</c> says why. Queued on <see cref="WarningEvents"/>: never awaited by a pass.
/// </summary>
internal sealed class AccountEvents(WarningEvents events)
{
    private static readonly V1EventSource Source = new() { Component = "metadata-proxy-pull-secrets" };

    public void Warn(V1ServiceAccount account, string reason, string message) =>
        events.Report(
            new V1ObjectReference { ApiVersion = "v1", Kind = "ServiceAccount", Name = account.Metadata.Name, NamespaceProperty = account.Metadata.NamespaceProperty, Uid = account.Metadata.Uid },
            reason,
            message,
            Source);
}
