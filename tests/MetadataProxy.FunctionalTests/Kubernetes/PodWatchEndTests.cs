using MetadataProxy.Kubernetes;

namespace MetadataProxy.FunctionalTests.Kubernetes;

/// <summary>
/// Two watch answers of a real API server, on the fake clock: a watch request answered HTTP 410 (not an ERROR event
/// on a 200 stream) relists at once and counts as a relist, not a failure, while a 410 again on the watch after that
/// relist, nothing delivered in between, waits the back-off (growing) first; a watch the server ends at once with
/// nothing delivered is retried after the back-off, not at once (client-go: "very short watch"), while a watch that
/// delivered something, or lasted, resumes at once.
/// </summary>
public sealed class PodWatchEndTests
{
    private const string Failures = "metadata_proxy_pod_watch_failures_total";
    private const string Relists = "metadata_proxy_pod_relists_total";
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(1);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>The informer on one pod ("web", 10.0.0.5), its first watch open at the server.</summary>
    private static async Task<InformerRig> WatchingOnePodAsync()
    {
        var rig = await InformerRig.StartServerAsync();
        try
        {
            rig.AddPod("web", "10.0.0.5");
            await rig.StartInformerAsync();
            await rig.Kube.WaitForOpenWatchesAsync(n => n == 1, Ct);
            return rig;
        }
        catch
        {
            await rig.DisposeAsync();
            throw;
        }
    }

    [Fact]
    public async Task WatchRequestAnswered410_RelistsAtOnce_AsAnExpiryNotAFailure()
    {
        await using var rig = await WatchingOnePodAsync();
        rig.Clock.Advance(TimeSpan.FromSeconds(2)); // the open watch has lasted: its end is a normal one
        var timers = rig.Clock.DueTimes.Count;

        rig.Kube.AnswerWatchesGone(1);
        rig.Kube.EndWatches();

        // The resumed watch is refused with 410; the informer lists again and watches from the new list, the clock standing still.
        await KubernetesLab.WaitUntilAsync(() => Task.FromResult(rig.Kube.PodListCalls == 2 && rig.Kube.OpenWatches == 1));
        Assert.Equal(1, rig.Kube.WatchesAnsweredGone);
        Assert.Equal(3, rig.Kube.PodWatchCalls);
        Assert.Equal(2, await rig.MetricAsync(Relists));
        Assert.Equal(0, await rig.MetricAsync(Failures));
        Assert.DoesNotContain(rig.Clock.DueTimes.Skip(timers), due => due != rig.SilenceLimit); // no back-off was waited
        Assert.True(rig.Informer.Current);
        Assert.Equal(1, rig.Index.Count);
    }

    [Fact]
    public async Task WatchAnswered410AgainAfterItsRelist_WaitsTheBackOff_GrowingUntilAnEventIsDelivered()
    {
        await using var rig = await WatchingOnePodAsync();
        rig.Clock.Advance(TimeSpan.FromSeconds(2)); // the open watch has lasted: its end is a normal one
        var timers = rig.Clock.DueTimes.Count;

        rig.Kube.AnswerWatchesGone(3);
        rig.Kube.EndWatches();

        // The first 410 relists at once; the watch from that list is refused too: the second relist waits 200 ms.
        var (delay, count) = await rig.NextDelayAsync(timers);
        Assert.Equal(TimeSpan.FromMilliseconds(200), delay); // jitter 1.0: the first step in full
        Assert.Equal(2, rig.Kube.PodListCalls);
        rig.Clock.Advance(delay - Tick);
        Assert.Equal(2, rig.Kube.PodListCalls);
        rig.Clock.Advance(Tick);

        (delay, count) = await rig.NextDelayAsync(count); // the third relist's watch refused too: it waits longer
        Assert.Equal(3, rig.Kube.PodListCalls);
        Assert.Equal(TimeSpan.FromMilliseconds(400), delay);
        rig.Clock.Advance(delay);
        await KubernetesLab.WaitUntilAsync(() => Task.FromResult(rig.Kube.PodListCalls == 4 && rig.Kube.OpenWatches == 1));
        Assert.Equal(3, rig.Kube.WatchesAnsweredGone);

        // A delivered event ends the run: the next 410 relists at once again and the one after waits the first step.
        rig.AddPod("api", "10.0.0.6");
        await KubernetesLab.WaitUntilAsync(() => Task.FromResult(rig.Index.Count == 2));
        rig.Kube.AnswerWatchesGone(2);
        rig.Kube.EndWatches();
        (delay, _) = await rig.NextDelayAsync(count);
        Assert.Equal(5, rig.Kube.PodListCalls);
        Assert.Equal(TimeSpan.FromMilliseconds(200), delay);
        Assert.Equal(0, await rig.MetricAsync(Failures));
    }

    [Fact]
    public async Task ListThatSucceedsAfterFailedOnes_ResetsTheBackOff()
    {
        await using var rig = await InformerRig.StartServerAsync();
        rig.AddPod("web", "10.0.0.5");
        rig.Kube.GoDown();
        rig.Kube.EndWatchesAtOnce();
        await rig.StartInformerAsync();

        var (delay, count) = await rig.NextDelayAsync(0); // the first list failed
        Assert.Equal(TimeSpan.FromMilliseconds(200), delay);
        rig.Clock.Advance(delay);
        (delay, count) = await rig.NextDelayAsync(count); // and the second
        Assert.Equal(TimeSpan.FromMilliseconds(400), delay);
        rig.Kube.ComeUp();
        rig.Clock.Advance(delay);

        // The third list succeeds; its watch closes at once and backs off from the first step, not the third.
        (delay, _) = await rig.NextDelayAsync(count);
        Assert.Equal(1, rig.Kube.PodWatchCalls);
        Assert.Equal(1, rig.Index.Count);
        Assert.Equal(TimeSpan.FromMilliseconds(200), delay);
    }

    [Fact]
    public async Task WatchEndedAtOnceWithNothingDelivered_IsRetriedAfterTheBackOff_NotAtOnce()
    {
        await using var rig = await InformerRig.StartServerAsync();
        rig.AddPod("web", "10.0.0.5");
        rig.Kube.EndWatchesAtOnce();
        await rig.StartInformerAsync();

        var (delay, timers) = await rig.NextDelayAsync(0);
        Assert.Equal(TimeSpan.FromMilliseconds(200), delay); // jitter 1.0: the first step in full
        Assert.Equal(1, rig.Kube.PodWatchCalls);
        rig.Clock.Advance(delay - Tick);
        Assert.Equal(1, rig.Kube.PodWatchCalls); // parked: the second watch waits for the back-off
        rig.Clock.Advance(Tick);

        (delay, _) = await rig.NextDelayAsync(timers);
        Assert.Equal(2, rig.Kube.PodWatchCalls);
        Assert.Equal(TimeSpan.FromMilliseconds(400), delay); // still closed at once: the back-off grows
        Assert.Equal(1, rig.Kube.PodListCalls); // resumed from its resourceVersion, never relisted
        Assert.Equal(2, await rig.MetricAsync(Failures));
        Assert.False(rig.Informer.Current); // no live watch: callers are confirmed with the API server meanwhile
        Assert.Equal(1, rig.Index.Count);
    }

    [Fact]
    public async Task WatchThatDeliveredAnEventThenEnded_ResumesAtOnce()
    {
        await using var rig = await InformerRig.StartServerAsync();
        rig.AddPod("web", "10.0.0.5");
        rig.Kube.EndWatchesAtOnce();
        await rig.StartInformerAsync();
        var (delay, timers) = await rig.NextDelayAsync(0); // the first watch closed at once: parked on the back-off

        rig.AddPod("api", "10.0.0.6"); // no watch is open: the next one replays it, then the server ends that one too
        rig.Clock.Advance(delay);
        (delay, _) = await rig.NextDelayAsync(timers);

        // The second watch delivered the pod and ended: the third followed with no wait, and only the third, empty,
        // backed off, from the first step again (the event reset the back-off).
        Assert.Equal(3, rig.Kube.PodWatchCalls);
        Assert.Equal(TimeSpan.FromMilliseconds(200), delay);
        Assert.Equal(2, rig.Index.Count);
        Assert.Equal(1, rig.Kube.PodListCalls);
    }

    [Fact]
    public async Task WatchThatLastedThenEndedWithNothingDelivered_ResumesAtOnce()
    {
        await using var rig = await WatchingOnePodAsync();
        var timers = rig.Clock.DueTimes.Count;

        rig.Clock.Advance(WatchAttempt.ShortestNormal); // a quiet cluster and no bookmark: the watch just lasts
        rig.Kube.EndWatches(); // as its timeoutSeconds would

        await KubernetesLab.WaitUntilAsync(() => Task.FromResult(rig.Kube.PodWatchCalls == 2 && rig.Kube.OpenWatches == 1));
        Assert.DoesNotContain(rig.Clock.DueTimes.Skip(timers), due => due != rig.SilenceLimit);
        Assert.Equal(0, await rig.MetricAsync(Failures));
        Assert.Equal(1, rig.Kube.PodListCalls);
        Assert.True(rig.Informer.Current);
    }
}
