using k8s.Models;

namespace MetadataProxy.TestServers.Kubernetes;

/// <summary>
/// Pod lists by the <c>resourceVersion</c> semantics of the real API server: unset is the most recent state (a quorum
/// read); "0" is any state, served from the watch cache, which may be behind (<see cref="ServeStalePodCache"/>);
/// N is "not older than N", answered from a cache that has reached N, or 504 "Too large resource version" when
/// nothing the server has is that new.
/// </summary>
internal sealed partial class ClusterStore
{
    private StalePods? _stalePods;

    /// <summary>
    /// From now on the watch cache is behind: lists at resourceVersion "0" answer the pods as they are at this moment,
    /// whatever changes later. With <paramref name="frozen"/> the cache never catches up, so a list not older than a
    /// later resourceVersion is refused 504 (a real server answers that after waiting 3 s for the cache); otherwise
    /// such a list is answered from the current state, as by a cache that catches up while the list waits.
    /// </summary>
    public void ServeStalePodCache(bool frozen) =>
        Locked(() => _stalePods = new StalePods(_counter.Current, [.. _pods.Items.Select(KubeObjects.Clone)], frozen));

    /// <summary>The watch cache is current again.</summary>
    public void ServeCurrentPodCache() => Locked(() => _stalePods = null);

    /// <summary>The matching pods and the resourceVersion the list is consistent with, or the Status that refuses it.</summary>
    public (long ResourceVersion, List<V1Pod> Items, V1Status? Failure) ListPods(Func<V1Pod, bool> matches, long? resourceVersion)
    {
        lock (_gate)
        {
            var current = _counter.Current;
            if (resourceVersion == 0 && _stalePods is { } stale)
                return (stale.ResourceVersion, stale.Pods.Where(matches).Select(KubeObjects.Clone).ToList(), null);
            var newest = _stalePods is { Frozen: true } frozen ? frozen.ResourceVersion : current;
            if (resourceVersion is { } notOlderThan && notOlderThan > newest)
                return (0, [], TooLargeResourceVersion(notOlderThan, newest));
            return (current, _pods.Items.Where(matches).Select(KubeObjects.Clone).ToList(), null);
        }
    }

    /// <summary>storage.NewTooLargeResourceVersionError: a Timeout (504) with the ResourceVersionTooLarge cause.</summary>
    private static V1Status TooLargeResourceVersion(long asked, long current) =>
        KubeStatus.Failure(504, "Timeout", $"Too large resource version: {asked}, current: {current}", new V1StatusDetails
        {
            Causes = [new V1StatusCause { Reason = "ResourceVersionTooLarge", Message = "Too large resource version" }],
            RetryAfterSeconds = 1,
        });

    private sealed record StalePods(long ResourceVersion, List<V1Pod> Pods, bool Frozen);
}
