using MetadataProxy.Identity;
using MetadataProxy.Kubernetes;
using MetadataProxy.ServiceAccounts;
using Microsoft.Extensions.Options;

namespace MetadataProxy.Node;

/// <summary>
/// The node itself as a caller (the node socket, and host callers under <c>HostNetworkPolicy=NodeIdentity</c>): the
/// identity of one configured Kubernetes ServiceAccount, exchanged like a pod's, never a key file or a default.
/// </summary>
internal sealed class NodeIdentity(ServiceAccountCache accounts, IOptions<NodeIdentityOptions> options, NodeInfo node, IOptions<KubernetesOptions> kubernetes)
{
    public async ValueTask<CallerOutcome> ResolveAsync(CancellationToken cancellationToken)
    {
        if (options.Value.Account is not { } account)
            return NotConfigured();
        return From(await accounts.GetAsync(account.Namespace, account.Name, cancellationToken), account);
    }

    public CallerOutcome ResolveKnown()
    {
        if (options.Value.Account is not { } account)
            return NotConfigured();
        return accounts.Known(account.Namespace, account.Name) is { } state
            ? From(state, account)
            : new CallerOutcome.Refused(CallerRefusal.ServiceAccountUnavailable, $"The node identity's ServiceAccount {account.Namespace}/{account.Name} has not been read yet.");
    }

    private CallerOutcome From(ServiceAccountState state, (string Namespace, string Name) account)
    {
        var ksa = $"{account.Namespace}/{account.Name}";
        return state switch
        {
            ServiceAccountState.Found { Annotations: null } found => new CallerOutcome.Refused(CallerRefusal.InvalidAnnotation,
                $"Kubernetes service account {ksa} (the node identity): {found.Problem}."),
            ServiceAccountState.Found { Annotations: { } annotations } found => new CallerOutcome.Resolved(Identity(account, found, annotations)),
            ServiceAccountState.Missing => new CallerOutcome.Refused(CallerRefusal.ServiceAccountMissing,
                $"Kubernetes service account {ksa}, the node identity (Identity:NodeServiceAccount), does not exist."),
            ServiceAccountState.Unavailable unavailable => new CallerOutcome.Refused(CallerRefusal.ServiceAccountUnavailable,
                $"Kubernetes service account {ksa} (the node identity) could not be read ({unavailable.Reason}); retry shortly."),
            _ => throw new InvalidOperationException($"Unknown ServiceAccount state {state.GetType().Name}."),
        };
    }

    private CallerIdentity Identity((string Namespace, string Name) account, ServiceAccountState.Found found, ServiceAccountAnnotations annotations)
    {
        var own = options.Value.BindsToOwnPod;
        return new CallerIdentity(account.Namespace, account.Name, annotations.GoogleServiceAccount, CallerIdentity.DefaultScopes)
        {
            IsNode = true,
            // The server's own account: bound to the server's pod. Another account cannot be bound to a pod that does
            // not run as it, so its tokens are bound to this Node object (Kubernetes 1.32+: ServiceAccountTokenNodeBinding).
            PodName = own ? options.Value.PodName : null,
            PodUid = own ? options.Value.PodUid : null,
            BoundNodeName = own ? null : kubernetes.Value.NodeName,
            BoundNodeUid = own ? null : node.Facts.Uid,
            ServiceAccountUid = found.Uid,
            QuotaProject = annotations.QuotaProject,
            ReturnPrincipalIdAsEmail = annotations.ReturnPrincipalIdAsEmail,
        };
    }

    private static CallerOutcome.Refused NotConfigured() => new(CallerRefusal.HostNetwork,
        "This server has no node identity: set Identity:NodeServiceAccount, or POD_NAMESPACE and POD_SERVICE_ACCOUNT.");
}
