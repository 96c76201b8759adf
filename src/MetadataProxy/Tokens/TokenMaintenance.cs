using MetadataProxy.Identity;
using MetadataProxy.Node;
using MetadataProxy.Pods;
using MetadataProxy.ServiceAccounts;
using Microsoft.Extensions.Options;

namespace MetadataProxy.Tokens;

/// <summary>
/// Prefetches a token when a pod with an identity appears, and stops keeping tokens for Kubernetes service accounts
/// that no live pod on this node uses (field lesson 10: no ghost refreshes for dead pods).
/// </summary>
internal sealed class TokenMaintenance : BackgroundService
{
    private readonly PodIndex _pods;
    private readonly PodEvents _events;
    private readonly ServiceAccountCache _accounts;
    private readonly WorkloadIdentityTokenProvider _tokens;
    private readonly WorkloadIdentityExchange _exchange;
    private readonly TokenCache<AccessTokenKey> _accessTokens;
    private readonly TokenCache<IdTokenKey> _idTokens;
    private readonly NodeIdentity _node;
    private readonly IOptions<NodeIdentityOptions> _nodeOptions;
    private readonly TimeProvider _time;

    public TokenMaintenance(PodIndex pods, PodEvents events, ServiceAccountCache accounts, WorkloadIdentityTokenProvider tokens,
        WorkloadIdentityExchange exchange, TokenCache<AccessTokenKey> accessTokens, TokenCache<IdTokenKey> idTokens,
        NodeIdentity node, IOptions<NodeIdentityOptions> nodeOptions, TimeProvider time)
    {
        (_pods, _events, _accounts, _tokens, _exchange, _accessTokens, _idTokens, _node, _nodeOptions, _time) =
            (pods, events, accounts, tokens, exchange, accessTokens, idTokens, node, nodeOptions, time);
        // Subscribed before any hosted service starts, so pods listed at start-up are prefetched too.
        _events.PodChanged += Prefetch;
    }

    public override void Dispose()
    {
        _events.PodChanged -= Prefetch;
        base.Dispose();
    }

    private static readonly TimeSpan SweepInterval = TimeSpan.FromSeconds(30);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                // The node identity's token is ready before the kubelet's first image pull asks for it.
                if (_nodeOptions.Value.Wanted)
                    await PrefetchNodeAsync(stoppingToken);
                await Task.Delay(SweepInterval, _time, stoppingToken);
                _accessTokens.RefreshDue();
                _idTokens.RefreshDue();
                var used = _pods.All.Where(p => p.IsLive).Select(p => (p.Namespace, p.ServiceAccount)).ToHashSet();
                if (_nodeOptions.Value is { Wanted: true, Account: { } nodeAccount })
                    used.Add(nodeAccount);
                _accessTokens.Evict(k => used.Contains((k.Namespace, k.ServiceAccount)));
                _idTokens.Evict(k => used.Contains((k.Namespace, k.ServiceAccount)));
                _exchange.Forget(chain => used.Any(u => WorkloadIdentityExchange.AccountOf(chain).StartsWith($"{u.Namespace}/{u.ServiceAccount}/", StringComparison.Ordinal)));
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private void Prefetch(PodRecord pod) => _ = PrefetchAsync(pod);

    private async Task PrefetchNodeAsync(CancellationToken cancellationToken)
    {
        try
        {
            if (await _node.ResolveAsync(cancellationToken) is CallerOutcome.Resolved { Identity: var identity })
                await _tokens.PrefetchAsync(identity);
        }
        catch (Exception e) when (e is not OutOfMemoryException && !cancellationToken.IsCancellationRequested)
        {
            // As for pods: the first request reports what went wrong.
        }
    }

    private async Task PrefetchAsync(PodRecord pod)
    {
        try
        {
            var state = await _accounts.GetAsync(pod.Namespace, pod.ServiceAccount, CancellationToken.None);
            if (state is ServiceAccountState.Found { Annotations: { } annotations } found)
                await _tokens.PrefetchAsync(CallerIdentities.For(pod, found, annotations));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A prefetch is an optimisation: a failure here is the first request's to report.
        }
    }
}
