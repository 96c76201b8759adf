using MetadataProxy.Identity;
using MetadataProxy.Node;
using MetadataProxy.Pods;
using Microsoft.Extensions.Options;

namespace MetadataProxy.ServiceAccounts;

/// <summary>
/// Reads a pod's ServiceAccount as soon as the pod appears, re-reads those in use before they go stale, and forgets
/// those no live pod uses any more, so requests seldom wait for the API server.
/// </summary>
internal sealed class ServiceAccountRefresher : BackgroundService
{
    private readonly PodIndex _index;
    private readonly PodEvents _events;
    private readonly ServiceAccountCache _accounts;
    private readonly IOptions<IdentityOptions> _options;
    private readonly IOptions<NodeIdentityOptions> _node;
    private readonly TimeProvider _time;

    public ServiceAccountRefresher(PodIndex index, PodEvents events, ServiceAccountCache accounts, IOptions<IdentityOptions> options,
        IOptions<NodeIdentityOptions> node, TimeProvider time)
    {
        (_index, _events, _accounts, _options, _node, _time) = (index, events, accounts, options, node, time);
        // Subscribed when the host builds its services, before any of them starts: the informer's first list
        // (which may run before this service's ExecuteAsync on .NET 10) prefetches every pod's account.
        _events.PodChanged += Prefetch;
    }

    public override void Dispose()
    {
        _events.PodChanged -= Prefetch;
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            var period = _options.Value.ServiceAccountCacheTtl / 4;
            while (!stoppingToken.IsCancellationRequested)
            {
                await Task.Delay(period, _time, stoppingToken);
                var used = _index.All.Where(p => p.IsLive).Select(p => (p.Namespace, p.ServiceAccount)).ToHashSet();
                if (_node.Value is { Wanted: true, Account: { } nodeAccount })
                    used.Add(nodeAccount); // the node identity's account is in use while anything serves it
                foreach (var (ns, name) in used)
                {
                    if (_accounts.IsDueForRefresh(ns, name))
                        _accounts.Refresh(ns, name);
                }

                foreach (var key in _accounts.Keys.Where(k => !used.Contains(k)).ToList())
                    _accounts.Forget(key.Namespace, key.Name);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private void Prefetch(PodRecord pod)
    {
        if (_accounts.IsDueForRefresh(pod.Namespace, pod.ServiceAccount))
            _accounts.Refresh(pod.Namespace, pod.ServiceAccount);
    }
}
