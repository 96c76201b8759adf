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
/// node with that address (<see cref="AddressOwners"/>: a terminating pod keeps it unless another pod may have it) →
/// its ServiceAccount and annotations. A miss waits for the informer for <c>Identity:LookupWait</c>, then asks the
/// API server once; nobody found, or more than one, or an address that may be passing to a new pod, is refused.
/// </summary>
internal sealed partial class KubernetesCallerResolver(
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
    RefusalEvents events,
    ILogger<KubernetesCallerResolver> logger) : ICallerResolver
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

        var (owner, how) = await FindAsync(address, cancellationToken);
        switch (owner)
        {
            case null:
                metrics.CallerResolved(how == "stale" ? "index_too_stale" : "list_failed");
                return new CallerOutcome.Refused(CallerRefusal.Unknown, how == "stale"
                    ? $"The pod index of node {kubernetes.Value.NodeName} has not heard from the Kubernetes API for over {options.Value.IndexStalenessLimit.TotalSeconds:0} s and cannot confirm who owns {address}; retry shortly."
                    : $"No pod on node {kubernetes.Value.NodeName} is known at {address} and the Kubernetes API could not be asked; retry shortly.");
            case AddressOwner.Nobody:
                metrics.CallerResolved("unknown");
                return new CallerOutcome.Refused(CallerRefusal.Unknown,
                    $"No live pod on node {kubernetes.Value.NodeName} has IP {address}; if the pod just started, retry shortly.");
            case AddressOwner.Ambiguous ambiguous:
                metrics.CallerResolved("ambiguous");
                // The caller and the Events get counts only: the other claimants may be any namespace's pods. Their
                // names go to this server's log, for the operator.
                Log.AmbiguousAddress(logger, address, ambiguous.Pods);
                var message = $"{ambiguous.Pods.Length} live pods on this node claim IP {address}; refusing to guess which one is calling. MetadataProxy's log on this node names them.";
                foreach (var pod in ambiguous.Pods)
                    events.Report(pod.Namespace, pod.Name, pod.Uid, "MetadataAmbiguousPodIP", message);
                return new CallerOutcome.Refused(CallerRefusal.Ambiguous, message);
            case AddressOwner.Contended contended:
                metrics.CallerResolved("terminating_contended");
                Log.ContendedAddress(logger, address, contended.Terminating, contended.Waiting);
                return new CallerOutcome.Refused(CallerRefusal.Ambiguous,
                    $"The pod at {address} is terminating and {contended.Waiting.Length} pod(s) on this node are waiting for an address; the address may already be theirs, so no identity is served until their addresses are known; retry shortly. MetadataProxy's log on this node names them.");
            case AddressOwner.One one:
                metrics.CallerResolved(one.Pod.Terminating && how is "index" or "after_wait" ? "terminating" : how);
                return await IdentityOfAsync(one.Pod, cancellationToken);
            default:
                throw new InvalidOperationException($"Unknown address owner {owner.GetType().Name}.");
        }
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

        if (!informer.Current || index.OwnerOf(address) is not AddressOwner.One { Pod: var pod })
            return new CallerOutcome.Refused(CallerRefusal.Unknown, $"{address} is not one live pod the index knows right now.");
        return accounts.Known(pod.Namespace, pod.ServiceAccount) is ServiceAccountState.Found { Annotations: { } annotations } found
            ? new CallerOutcome.Resolved(CallerIdentities.For(pod, found, annotations))
            : new CallerOutcome.Refused(CallerRefusal.ServiceAccountUnavailable, $"The ServiceAccount of {pod} has not been read yet.");
    }

    private async Task<(AddressOwner? Owner, string How)> FindAsync(IPAddress address, CancellationToken cancellationToken)
    {
        // A pod that has just started may ask before its watch event arrives, and a terminating pod's address may be
        // about to pass to a pod waiting for one: wait for the index to settle, up to Identity:LookupWait.
        var deadline = time.GetUtcNow() + options.Value.LookupWait;
        var how = "index";
        AddressOwner owner;
        while (true)
        {
            var changed = index.NextChange;
            owner = index.OwnerOf(address);
            if (owner is not (AddressOwner.Nobody or AddressOwner.Contended))
                break;
            var remaining = deadline - time.GetUtcNow();
            if (remaining <= TimeSpan.Zero)
                break;
            how = "after_wait";
            await ChangeWait.ForAsync(changed, remaining, time, cancellationToken);
        }

        if (owner is AddressOwner.Contended)
            return (owner, how);

        if (owner is AddressOwner.Nobody)
        {
            return await lister.LiveAtAsync(address, cancellationToken) is { } listed
                ? (AddressOwners.Decide(listed, index.AwaitingAddress), "live_list")
                : (null, "live_list");
        }

        if (!informer.Current)
        {
            // The watch is down or silent: the pod at this address may be gone and the address reused. Ask the API
            // server (one LIST per address at a time, reused for a second while the index does not change); if it
            // cannot answer either (an outage, when no new pod can be bound to this node), pods already known keep resolving.
            if (await lister.LiveAtAsync(address, cancellationToken) is { } truth)
                return (AddressOwners.Decide(truth, index.AwaitingAddress), "verified");
            // Past a long outage the index is too old to vouch for anyone: the address may belong to a new pod.
            return time.GetUtcNow() - (informer.LastContact ?? DateTimeOffset.MinValue) <= options.Value.IndexStalenessLimit ? (owner, "index_stale") : (null, "stale");
        }

        return (owner, how);
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

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Live pods claiming {Address}: {Pods}")]
        public static partial void AmbiguousAddress(ILogger logger, IPAddress address, ImmutableArray<PodRecord> pods);

        [LoggerMessage(Level = LogLevel.Information, Message = "{Address} is claimed by terminating pod {Terminating} while pods on this node wait for an address: {Waiting}")]
        public static partial void ContendedAddress(ILogger logger, IPAddress address, PodRecord terminating, ImmutableArray<PodRecord> waiting);
    }
}
