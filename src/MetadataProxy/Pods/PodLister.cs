using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Net;
using k8s;
using k8s.Autorest;
using MetadataProxy.Kubernetes;
using Microsoft.Extensions.Options;

namespace MetadataProxy.Pods;

/// <summary>
/// The live List behind a miss in the index: pods on this node whose first IP is the caller's
/// (<c>status.podIP</c> matches only the first), one call per address at a time, under the API-call cap.
/// </summary>
internal sealed class PodLister(IKubernetes client, KubernetesCallLimiter limiter, IOptions<KubernetesOptions> options, TimeProvider time)
{
    /// <summary>After a failed list the API server is assumed down for this long, so requests do not each wait for it.</summary>
    private static readonly TimeSpan AssumeDownFor = TimeSpan.FromSeconds(5);

    private long _downUntilTicks;

    private readonly ConcurrentDictionary<IPAddress, Lazy<Task<ImmutableArray<PodRecord>?>>> _inFlight = new();

    /// <summary>Live pods at <paramref name="address"/>, or null when the API server could not be asked.</summary>
    public Task<ImmutableArray<PodRecord>?> LiveAtAsync(IPAddress address, CancellationToken cancellationToken) =>
        time.GetUtcNow().UtcTicks < Interlocked.Read(ref _downUntilTicks)
            ? Task.FromResult<ImmutableArray<PodRecord>?>(null)
            : _inFlight.GetOrAdd(address, a => new Lazy<Task<ImmutableArray<PodRecord>?>>(() => ListOnceAsync(a))).Value.WaitAsync(cancellationToken);

    private async Task<ImmutableArray<PodRecord>?> ListOnceAsync(IPAddress address)
    {
        try
        {
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(1), time);
            using var slot = await limiter.EnterAsync(deadline.Token);
            var list = await client.CoreV1.ListPodForAllNamespacesAsync(
                fieldSelector: $"spec.nodeName={options.Value.NodeName},status.podIP={address}",
                cancellationToken: deadline.Token);
            return list.Items.Select(PodRecords.From).Where(p => p.IsLive && p.Addresses.Contains(address)).ToImmutableArray();
        }
        catch (HttpOperationException)
        {
            return null; // The API server answered (throttling, an error): it is not down, so the next miss asks again.
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
