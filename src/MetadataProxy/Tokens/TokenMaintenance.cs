using MetadataProxy.Pods;
using MetadataProxy.ServiceAccounts;

namespace MetadataProxy.Tokens;

/// <summary>
/// Prefetches a token when a pod with an identity appears, and stops keeping tokens for Kubernetes service accounts
/// that no live pod on this node uses (field lesson 10: no ghost refreshes for dead pods).
/// </summary>
internal sealed class TokenMaintenance(
    PodIndex pods,
    PodEvents events,
    ServiceAccountCache accounts,
    WorkloadIdentityTokenProvider tokens,
    WorkloadIdentityExchange exchange,
    TokenCache<AccessTokenKey> accessTokens,
    TokenCache<IdTokenKey> idTokens,
    TimeProvider time) : BackgroundService
{
    private static readonly TimeSpan SweepInterval = TimeSpan.FromSeconds(30);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        events.PodChanged += Prefetch;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                await Task.Delay(SweepInterval, time, stoppingToken);
                var used = pods.All.Where(p => p.IsLive).Select(p => (p.Namespace, p.ServiceAccount)).ToHashSet();
                accessTokens.Evict(k => used.Contains((k.Namespace, k.ServiceAccount)));
                idTokens.Evict(k => used.Contains((k.Namespace, k.ServiceAccount)));
                exchange.Forget(chain => used.Any(u => WorkloadIdentityExchange.AccountOf(chain).StartsWith($"{u.Namespace}/{u.ServiceAccount}/", StringComparison.Ordinal)));
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            events.PodChanged -= Prefetch;
        }
    }

    private void Prefetch(PodRecord pod) => _ = PrefetchAsync(pod);

    private async Task PrefetchAsync(PodRecord pod)
    {
        var state = await accounts.GetAsync(pod.Namespace, pod.ServiceAccount, CancellationToken.None);
        if (state is ServiceAccountState.Found { Annotations: { } annotations } found)
            await tokens.PrefetchAsync(CallerIdentities.For(pod, found, annotations));
    }
}
