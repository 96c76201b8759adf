using MetadataProxy.Identity;
using MetadataProxy.Pods;
using Microsoft.Extensions.Options;

namespace MetadataProxy.ServiceAccounts;

/// <summary>
/// Reads a pod's ServiceAccount as soon as the pod appears, re-reads those in use before they go stale, and forgets
/// those no live pod uses any more, so requests seldom wait for the API server.
/// </summary>
internal sealed class ServiceAccountRefresher(
    PodIndex index,
    PodEvents events,
    ServiceAccountCache accounts,
    IOptions<IdentityOptions> options,
    TimeProvider time) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        events.PodChanged += Prefetch;
        try
        {
            var period = options.Value.ServiceAccountCacheTtl / 4;
            while (!stoppingToken.IsCancellationRequested)
            {
                await Task.Delay(period, time, stoppingToken);
                var used = index.All.Where(p => p.IsLive).Select(p => (p.Namespace, p.ServiceAccount)).ToHashSet();
                foreach (var (ns, name) in used)
                {
                    if (accounts.IsDueForRefresh(ns, name))
                        accounts.Refresh(ns, name);
                }

                foreach (var key in accounts.Keys.Where(k => !used.Contains(k)).ToList())
                    accounts.Forget(key.Namespace, key.Name);
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

    private void Prefetch(PodRecord pod)
    {
        if (accounts.IsDueForRefresh(pod.Namespace, pod.ServiceAccount))
            accounts.Refresh(pod.Namespace, pod.ServiceAccount);
    }
}
