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
/// burst of requests or a resuming watch does not cost a LIST per request, no call at all for <see cref="AssumeDownFor"/>
/// after the API server was unreachable, and every call under the API-call cap. An answer that names a pod is reused
/// only while the index has learned nothing since the List was sent (<see cref="PodIndex.Generation"/>): the pod may
/// have left the address since, and its identity must never pass to the pod that has it now.
/// </summary>
internal sealed class PodLister(IKubernetes client, PodIndex index, KubernetesCallLimiter limiter, IOptions<KubernetesOptions> options, TimeProvider time)
{
    /// <summary>After a failed list the API server is assumed down for this long, so requests do not each wait for it.</summary>
    public static readonly TimeSpan AssumeDownFor = TimeSpan.FromSeconds(5);

    /// <summary>How long one address's answer stands: at most one LIST per address per this interval while the index
    /// does not change.</summary>
    public static readonly TimeSpan ConfirmationReuse = TimeSpan.FromSeconds(1);

    private long _downUntilTicks;

    // Keyed by the index generation the List was sent at: a caller joins only a List sent since the index last changed.
    private readonly ConcurrentDictionary<(IPAddress Address, long Generation), Lazy<Task<ImmutableArray<PodRecord>?>>> _inFlight = new();
    private readonly ConcurrentDictionary<IPAddress, Answer> _recent = new();

    /// <summary>How many addresses' answers are kept: only those that may still be reused.</summary>
    public int KeptAnswers => _recent.Count;

    /// <summary>Live pods at <paramref name="address"/> (terminating ones whose containers run included), or null
    /// when the API server could not be asked.</summary>
    public Task<ImmutableArray<PodRecord>?> LiveAtAsync(IPAddress address, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcTicks;
        if (now < Interlocked.Read(ref _downUntilTicks))
            return Task.FromResult<ImmutableArray<PodRecord>?>(null);
        var generation = index.Generation;
        if (_recent.TryGetValue(address, out var recent) && recent.StandsAt(now, generation))
            return Task.FromResult(recent.Pods);
        return _inFlight.GetOrAdd((address, generation), k => new Lazy<Task<ImmutableArray<PodRecord>?>>(() => ListOnceAsync(k.Address, k.Generation)))
            .Value.WaitAsync(cancellationToken);
    }

    private async Task<ImmutableArray<PodRecord>?> ListOnceAsync(IPAddress address, long generation)
    {
        try
        {
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(1), time);
            using var slot = await limiter.EnterAsync(deadline.Token);
            var list = await client.CoreV1.ListPodForAllNamespacesAsync(
                fieldSelector: $"spec.nodeName={options.Value.NodeName},status.podIP={address}",
                cancellationToken: deadline.Token);
            var pods = list.Items.Select(PodRecords.From).Where(p => p.IsLive && p.Addresses.Contains(address)).ToImmutableArray();
            Keep(address, new Answer(time.GetUtcNow().UtcTicks, generation, pods));
            return pods;
        }
        catch (HttpOperationException e)
        {
            if (RetryAfter.Of(e) is { } asked)
                Interlocked.Exchange(ref _downUntilTicks, (time.GetUtcNow() + asked).UtcTicks);
            // The API server answered (throttling, an error): it is not down, but this address asks again only
            // after the reuse interval.
            Keep(address, new Answer(time.GetUtcNow().UtcTicks, generation, null));
            return null;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Interlocked.Exchange(ref _downUntilTicks, (time.GetUtcNow() + AssumeDownFor).UtcTicks);
            return null;
        }
        finally
        {
            _inFlight.TryRemove((address, generation), out _);
        }
    }

    private void Keep(IPAddress address, Answer answer)
    {
        _recent[address] = answer;
        // Forget every answer that can never stand again, or one entry per address ever missed would stay forever.
        var generation = index.Generation;
        foreach (var kept in _recent)
        {
            if (!kept.Value.StandsAt(answer.AtTicks, generation))
                _recent.TryRemove(kept);
        }
    }

    /// <summary>A List's answer (null: the API server refused it) and the index generation it was sent at.</summary>
    private readonly record struct Answer(long AtTicks, long Generation, ImmutableArray<PodRecord>? Pods)
    {
        // "Nobody" and a refusal only ever refuse, whatever the index has learned since; an answer naming a pod stands
        // only while the index has not changed, since a change may be that pod leaving the address.
        public bool StandsAt(long nowTicks, long generation) =>
            nowTicks - AtTicks < ConfirmationReuse.Ticks && (Pods is not { IsEmpty: false } || Generation == generation);
    }
}
