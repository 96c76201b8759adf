using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Net;
using k8s;
using k8s.Autorest;
using MetadataProxy.Kubernetes;
using Microsoft.Extensions.Options;

namespace MetadataProxy.Pods;

/// <summary>
/// The live List behind a miss in the index, or behind a known caller while the index is not current: pods on this
/// node whose first IP is the caller's (<c>status.podIP</c> matches only the first). It protects the API server:
/// one call per address at a time (single flight), an answer (or a refusal) reused for <see cref="ConfirmationReuse"/> so a
/// resuming watch does not cost a LIST per request, no call at all for <see cref="AssumeDownFor"/> after the API
/// server was unreachable, and every call under the API-call cap.
/// </summary>
internal sealed class PodLister(IKubernetes client, KubernetesCallLimiter limiter, IOptions<KubernetesOptions> options, TimeProvider time)
{
    /// <summary>After a failed list the API server is assumed down for this long, so requests do not each wait for it.</summary>
    public static readonly TimeSpan AssumeDownFor = TimeSpan.FromSeconds(5);

    /// <summary>How long one address's answer stands: at most one LIST per address per this interval.</summary>
    public static readonly TimeSpan ConfirmationReuse = TimeSpan.FromSeconds(1);

    private long _downUntilTicks;

    private readonly ConcurrentDictionary<IPAddress, Lazy<Task<ImmutableArray<PodRecord>?>>> _inFlight = new();
    private readonly ConcurrentDictionary<IPAddress, (long AtTicks, ImmutableArray<PodRecord>? Pods)> _recent = new();

    /// <summary>Live pods at <paramref name="address"/> (terminating ones whose containers run included), or null
    /// when the API server could not be asked.</summary>
    public Task<ImmutableArray<PodRecord>?> LiveAtAsync(IPAddress address, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcTicks;
        if (now < Interlocked.Read(ref _downUntilTicks))
            return Task.FromResult<ImmutableArray<PodRecord>?>(null);
        if (_recent.TryGetValue(address, out var recent) && now - recent.AtTicks < ConfirmationReuse.Ticks)
            return Task.FromResult<ImmutableArray<PodRecord>?>(recent.Pods);
        return _inFlight.GetOrAdd(address, a => new Lazy<Task<ImmutableArray<PodRecord>?>>(() => ListOnceAsync(a))).Value.WaitAsync(cancellationToken);
    }

    private async Task<ImmutableArray<PodRecord>?> ListOnceAsync(IPAddress address)
    {
        try
        {
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(1), time);
            using var slot = await limiter.EnterAsync(deadline.Token);
            var list = await client.CoreV1.ListPodForAllNamespacesAsync(
                fieldSelector: $"spec.nodeName={options.Value.NodeName},status.podIP={address}",
                cancellationToken: deadline.Token);
            var pods = list.Items.Select(PodRecords.From).Where(p => p.IsLive && p.Addresses.Contains(address)).ToImmutableArray();
            _recent[address] = (time.GetUtcNow().UtcTicks, pods);
            return pods;
        }
        catch (HttpOperationException e)
        {
            if (RetryAfter.Of(e) is { } asked)
                Interlocked.Exchange(ref _downUntilTicks, (time.GetUtcNow() + asked).UtcTicks);
            // The API server answered (throttling, an error): it is not down, but this address asks again only
            // after the reuse interval.
            _recent[address] = (time.GetUtcNow().UtcTicks, null);
            return null;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Interlocked.Exchange(ref _downUntilTicks, (time.GetUtcNow() + AssumeDownFor).UtcTicks);
            return null;
        }
        finally
        {
            _inFlight.TryRemove(address, out _);
        }
    }
}
