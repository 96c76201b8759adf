using System.Collections.Immutable;
using System.Net;
using MetadataProxy.Identity;
using MetadataProxy.Kubernetes;
using MetadataProxy.Metadata;
using MetadataProxy.Node;
using MetadataProxy.Operations;
using MetadataProxy.ServiceAccounts;
using Microsoft.Extensions.Options;

namespace MetadataProxy.Pods;

/// <summary>
/// "Which pod is calling?" in Kubernetes mode (decision 2): the socket's remote address → the one live pod on this
/// node with that address → its ServiceAccount and annotations. A miss waits for the informer for
/// <c>Identity:LookupWait</c>, then asks the API server once; nobody found, or more than one, is refused.
/// </summary>
internal sealed class KubernetesCallerResolver(
    PodIndex index,
    PodInformer informer,
    PodLister lister,
    ServiceAccountCache accounts,
    NodeInfo node,
    NodeIdentity nodeIdentity,
    IOptions<IdentityOptions> options,
    IOptions<KubernetesOptions> kubernetes,
    TimeProvider time,
    ProxyMetrics metrics,
    RefusalEvents events) : ICallerResolver
{
    public async ValueTask<CallerOutcome> ResolveAsync(IPAddress remoteAddress, CancellationToken cancellationToken)
    {
        var address = PodRecords.Normalise(remoteAddress);
        if (node.IsNodeAddress(address) || index.IsHostNetworkAddress(address))
        {
            if (options.Value.HostNetworkPolicy == HostNetworkPolicy.NodeIdentity)
            {
                metrics.CallerResolved("node_identity");
                return await nodeIdentity.ResolveAsync(cancellationToken);
            }

            metrics.CallerResolved("host_network");
            return new CallerOutcome.Refused(CallerRefusal.HostNetwork,
                $"{address} is in the node's network namespace (the node itself or a hostNetwork pod); Identity:HostNetworkPolicy is Deny, so no identity is served to it.");
        }

        var (pods, how) = await FindAsync(address, cancellationToken);
        switch (pods)
        {
            case null:
                metrics.CallerResolved(how == "stale" ? "index_too_stale" : "list_failed");
                return new CallerOutcome.Refused(CallerRefusal.Unknown, how == "stale"
                    ? $"The pod index of node {kubernetes.Value.NodeName} has not heard from the Kubernetes API for over {options.Value.IndexStalenessLimit.TotalSeconds:0} s and cannot confirm who owns {address}; retry shortly."
                    : $"No pod on node {kubernetes.Value.NodeName} is known at {address} and the Kubernetes API could not be asked; retry shortly.");
            case { Length: 0 }:
                metrics.CallerResolved("unknown");
                return new CallerOutcome.Refused(CallerRefusal.Unknown,
                    $"No live pod on node {kubernetes.Value.NodeName} has IP {address}; if the pod just started, retry shortly.");
            case { Length: > 1 }:
                metrics.CallerResolved("ambiguous");
                var message = $"{pods.Value.Length} live pods on this node claim IP {address} ({string.Join(", ", pods.Value)}); refusing to guess which one is calling.";
                foreach (var pod in pods.Value)
                    events.Report(pod.Namespace, pod.Name, pod.Uid, "MetadataAmbiguousPodIP", message);
                return new CallerOutcome.Refused(CallerRefusal.Ambiguous, message);
        }

        metrics.CallerResolved(how);
        return await IdentityOfAsync(pods.Value[0], cancellationToken);
    }

    public ValueTask<CallerOutcome> ResolveNodeAsync(CancellationToken cancellationToken) => nodeIdentity.ResolveAsync(cancellationToken);

    public CallerOutcome ResolveNodeKnown() => nodeIdentity.ResolveKnown();

    public CallerOutcome ResolveKnown(IPAddress remoteAddress)
    {
        var address = PodRecords.Normalise(remoteAddress);
        if (node.IsNodeAddress(address) || index.IsHostNetworkAddress(address))
        {
            return options.Value.HostNetworkPolicy == HostNetworkPolicy.NodeIdentity
                ? nodeIdentity.ResolveKnown()
                : new CallerOutcome.Refused(CallerRefusal.HostNetwork, $"{address} is in the node's network namespace.");
        }

        var pods = index.LiveAt(address);
        if (!informer.Current || pods.Length != 1)
            return new CallerOutcome.Refused(CallerRefusal.Unknown, $"{address} is not one live pod the index knows right now.");
        var pod = pods[0];
        return accounts.Known(pod.Namespace, pod.ServiceAccount) is ServiceAccountState.Found { Annotations: { } annotations } found
            ? new CallerOutcome.Resolved(CallerIdentities.For(pod, found, annotations))
            : new CallerOutcome.Refused(CallerRefusal.ServiceAccountUnavailable, $"The ServiceAccount of {pod} has not been read yet.");
    }

    private async Task<(ImmutableArray<PodRecord>? Pods, string How)> FindAsync(IPAddress address, CancellationToken cancellationToken)
    {
        var pods = index.LiveAt(address);
        if (!pods.IsEmpty && !informer.Current)
        {
            // The watch is down: the pod at this address may be gone and the address reused. Ask the API server;
            // if it cannot answer either (an outage), pods already known keep resolving.
            var listed = await lister.LiveAtAsync(address, cancellationToken);
            if (listed is { } truth)
                return (truth, "verified");
            // Past a short outage the index is too old to vouch for anyone: the address may belong to a new pod.
            return time.GetUtcNow() - (informer.LastContact ?? DateTimeOffset.MinValue) <= options.Value.IndexStalenessLimit ? (pods, "index_stale") : (null, "stale");
        }

        if (!pods.IsEmpty)
            return (pods, "index");

        // A pod that has just started may ask before its watch event arrives: wait for the index first.
        var deadline = time.GetUtcNow() + options.Value.LookupWait;
        while (true)
        {
            var changed = index.NextChange;
            pods = index.LiveAt(address);
            if (!pods.IsEmpty)
                return (pods, "after_wait");
            var remaining = deadline - time.GetUtcNow();
            if (remaining <= TimeSpan.Zero)
                break;
            await ChangeWait.ForAsync(changed, remaining, time, cancellationToken);
        }

        return (await lister.LiveAtAsync(address, cancellationToken), "live_list");
    }

    private async Task<CallerOutcome> IdentityOfAsync(PodRecord pod, CancellationToken cancellationToken)
    {
        var state = await accounts.GetAsync(pod.Namespace, pod.ServiceAccount, cancellationToken);
        var ksa = $"{pod.Namespace}/{pod.ServiceAccount}";
        CallerOutcome outcome = state switch
        {
            ServiceAccountState.Found { Annotations: null } found => new CallerOutcome.Refused(CallerRefusal.InvalidAnnotation,
                $"Kubernetes service account {ksa}: {found.Problem}."),
            ServiceAccountState.Found found => new CallerOutcome.Resolved(CallerIdentities.For(pod, found, found.Annotations)),
            ServiceAccountState.Missing => new CallerOutcome.Refused(CallerRefusal.ServiceAccountMissing,
                $"Pod {pod} runs as Kubernetes service account {ksa}, which does not exist."),
            ServiceAccountState.Unavailable unavailable => new CallerOutcome.Refused(CallerRefusal.ServiceAccountUnavailable,
                $"Kubernetes service account {ksa} could not be read ({unavailable.Reason}); retry shortly."),
            _ => throw new InvalidOperationException($"Unknown ServiceAccount state {state.GetType().Name}."),
        };
        if (outcome is CallerOutcome.Refused { Reason: CallerRefusal.InvalidAnnotation or CallerRefusal.ServiceAccountMissing } refused)
            events.Report(pod.Namespace, pod.Name, pod.Uid, refused.Reason == CallerRefusal.InvalidAnnotation ? "MetadataInvalidAnnotation" : "MetadataServiceAccountMissing", refused.Message);
        return outcome;
    }
}
