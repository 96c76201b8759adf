namespace MetadataProxy.FunctionalTests.Kubernetes;

/// <summary>
/// Issue 9, "timing tests on a fake clock": the pod informer's back-off, its honouring of Retry-After and its silent
/// watch detection, each asserted by advancing a fake clock by exactly the wait in question. One millisecond short
/// of it the informer is provably still parked (its only timer has not fired), one millisecond later it acts.
/// </summary>
public sealed class PodInformerClockTests
{
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(1);

    [Theory]
    [InlineData(1.0, new[] { 0.2, 0.4, 0.8, 1.6, 3.0, 3.0 })]
    [InlineData(0.0, new[] { 0.1, 0.2, 0.4, 0.8, 1.5, 1.5 })]
    public async Task ApiServerDown_BackOffDoublesUpToReconnectDelayMax_AndTheListWaitsForTheClock(double jitter, double[] seconds)
    {
        await using var rig = await InformerRig.StartServerAsync(jitter, reconnectDelayMax: TimeSpan.FromSeconds(3));
        rig.AddPod("web", "10.0.0.5");
        rig.Kube.GoDown();
        await rig.StartInformerAsync();

        var timers = 0;
        var delays = new List<double>();
        foreach (var _ in seconds)
        {
            (var delay, timers) = await rig.NextDelayAsync(timers);
            delays.Add(delay.TotalSeconds);
            rig.Clock.Advance(delay - Tick);
            Assert.Equal(timers, rig.Clock.DueTimes.Count); // parked: no new attempt before the wait is over
            rig.Clock.Advance(Tick);
        }

        Assert.Equal(seconds, delays);
        Assert.False(rig.Informer.Synced);

        // Back up: the informer lists as soon as its current wait (the capped 3 s, or its jittered half) is over, not before.
        (var last, timers) = await rig.NextDelayAsync(timers);
        rig.Kube.ComeUp();
        var lists = rig.Kube.PodListCalls;
        rig.Clock.Advance(last - Tick);
        Assert.Equal(lists, rig.Kube.PodListCalls);
        Assert.False(rig.Informer.Synced);
        rig.Clock.Advance(Tick);
        await KubernetesLab.WaitUntilAsync(() => Task.FromResult(rig.Informer.Synced && rig.Informer.Current && rig.Index.Count == 1));
        Assert.Equal(lists + 1, rig.Kube.PodListCalls);
        Assert.Equal(rig.Clock.GetUtcNow(), rig.Informer.LastContact);
    }

    [Fact]
    public async Task FirstSynced_ApiServerDownThenUp_CompletesOnceTheFirstListIsIndexed()
    {
        // Issue 11: the metadata listeners bind on this signal, so it must not come before the index holds the pods.
        await using var rig = await InformerRig.StartServerAsync();
        rig.AddPod("web", "10.0.0.5");
        rig.Kube.GoDown();
        await rig.StartInformerAsync();
        var (delay, _) = await rig.NextDelayAsync(0); // the first list failed: parked on its back-off

        Assert.False(rig.Informer.FirstSynced.IsCompleted);
        rig.Kube.ComeUp();
        rig.Clock.Advance(delay);
        await rig.Informer.FirstSynced.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        Assert.Equal(1, rig.Index.Count);
        Assert.True(rig.Informer.Synced);
    }

    [Fact]
    public async Task ThrottledWatch_WaitsTheRetryAfterOnTheClock_NotTheShorterBackOff()
    {
        await using var rig = await InformerRig.StartServerAsync();
        rig.AddPod("web", "10.0.0.5");
        await rig.StartInformerAsync();
        await rig.Kube.WaitForOpenWatchesAsync(n => n == 1, TestContext.Current.CancellationToken);
        var timers = rig.Clock.DueTimes.Count;

        rig.Kube.Throttle(retryAfterSeconds: 5);
        try
        {
            rig.Kube.DropWatches();
            (var delay, timers) = await rig.NextDelayAsync(timers);
            if (rig.Kube.ThrottledWatches == 0)
            {
                // The cut stream itself counted as a failure: its back-off first, then the throttled attempt.
                Assert.Equal(TimeSpan.FromMilliseconds(200), delay);
                rig.Clock.Advance(delay);
                (delay, timers) = await rig.NextDelayAsync(timers);
            }

            Assert.Equal(1, rig.Kube.ThrottledWatches);
            Assert.Equal(TimeSpan.FromSeconds(5), delay); // the back-off alone would be 0.2 or 0.4 s
            rig.Clock.Advance(delay - Tick);
            Assert.Equal(1, rig.Kube.ThrottledWatches);
            Assert.Equal(timers, rig.Clock.DueTimes.Count);
        }
        finally
        {
            rig.Kube.StopThrottling();
        }

        Assert.False(rig.Informer.Current);
        rig.Clock.Advance(Tick);
        await rig.Kube.WaitForOpenWatchesAsync(n => n == 1, TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        Assert.Equal(1, rig.Kube.ThrottledWatches);
    }

    [Fact]
    public async Task StalledWatch_IsNotCurrentAfterTwiceTheBookmarkInterval_AndIsRestarted()
    {
        await using var rig = await InformerRig.StartServerAsync();
        rig.AddPod("web", "10.0.0.5");
        await rig.StartInformerAsync();
        await rig.Kube.WaitForOpenWatchesAsync(n => n == 1, TestContext.Current.CancellationToken);
        await KubernetesLab.WaitUntilAsync(() => Task.FromResult(rig.Clock.DueTimes.Contains(rig.SilenceLimit)));
        Assert.True(rig.Informer.Current);
        var watches = rig.Kube.PodWatchCalls;

        rig.Kube.StallWatches();
        try
        {
            rig.Clock.Advance(rig.SilenceLimit - Tick);
            Assert.True(rig.Informer.Current, "the watch was declared silent before twice the bookmark interval");
            rig.Clock.Advance(Tick);
            await KubernetesLab.WaitUntilAsync(() => Task.FromResult(!rig.Informer.Current && rig.Kube.PodWatchCalls == watches + 1));
            Assert.True(rig.Informer.Synced);
            Assert.Equal(watches + 1, rig.Kube.PodWatchCalls); // resumed at once from the last resourceVersion: no back-off, no relist
        }
        finally
        {
            rig.Kube.ResumeWatches();
        }

        // The resumed watch is believed again only once it delivers something.
        rig.AddPod("api", "10.0.0.6");
        await KubernetesLab.WaitUntilAsync(() => Task.FromResult(rig.Informer.Current && rig.Index.Count == 2));
        Assert.Equal(1, rig.Kube.PodListCalls);
    }

    [Fact]
    public async Task LiveWatch_EventsPostponeTheSilenceLimit()
    {
        await using var rig = await InformerRig.StartServerAsync();
        await rig.StartInformerAsync();
        await rig.Kube.WaitForOpenWatchesAsync(n => n == 1, TestContext.Current.CancellationToken);
        var watches = rig.Kube.PodWatchCalls;

        // An event every 1.5 intervals keeps a watch with no bookmarks alive over ten intervals of the clock.
        for (var i = 0; i < 7; i++)
        {
            rig.Clock.Advance(rig.Options.WatchBookmarkInterval * 1.5);
            rig.AddPod($"web-{i}", $"10.0.1.{i + 1}");
            var expected = i + 1;
            await KubernetesLab.WaitUntilAsync(() => Task.FromResult(rig.Index.Count == expected));
        }

        Assert.True(rig.Informer.Current);
        Assert.Equal(watches, rig.Kube.PodWatchCalls);
    }
}
