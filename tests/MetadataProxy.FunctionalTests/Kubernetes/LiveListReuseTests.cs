using MetadataProxy.Identity;
using MetadataProxy.Pods;

namespace MetadataProxy.FunctionalTests.Kubernetes;

/// <summary>
/// The live List's answer is kept for a second so that a burst of requests does not cost a List each; it must never
/// outlive what the index has learned since (non-negotiable 1: a token only for the live pod that owns the address).
/// The clock stands still throughout, so every answer here is inside the reuse interval.
/// </summary>
public sealed class LiveListReuseTests
{
    private static readonly IPAddress Shared = IPAddress.Parse("10.0.0.5");

    [Fact]
    public async Task ListedPodDeleted_AddressReusedBeforeTheNewPodsEventArrives_IsNeverTheDeletedPod()
    {
        await using var rig = await InformerRig.StartServerAsync();
        var resolver = rig.Resolver(new IdentityOptions { LookupWait = TimeSpan.Zero, ServiceAccountCacheTtl = TimeSpan.FromHours(1) });
        await rig.StartInformerAsync();
        await rig.Kube.WaitForOpenWatchesAsync(n => n == 1, TestContext.Current.CancellationToken);

        // Pod A asks before the node's watch delivers it: a miss, answered by the live List.
        rig.Kube.StallWatches();
        var a = rig.AddPod("web-a", "10.0.0.5");
        var first = Assert.IsType<CallerOutcome.Resolved>(await resolver.ResolveAsync(Shared, TestContext.Current.CancellationToken));
        Assert.Equal(a.Metadata.Uid, first.Identity.PodUid);

        // The watch delivers A's arrival and its deletion: the index knows A is gone.
        rig.Kube.ResumeWatches();
        await KubernetesLab.WaitUntilAsync(() => Task.FromResult(rig.Index.Count == 1));
        rig.Kube.DeletePod("clock", "web-a");
        await KubernetesLab.WaitUntilAsync(() => Task.FromResult(rig.Index.Count == 0));

        // Pod B gets the address and asks before its own event reaches the node.
        rig.Kube.StallWatches();
        var b = rig.AddPod("web-b", "10.0.0.5");
        var second = await resolver.ResolveAsync(Shared, TestContext.Current.CancellationToken);
        rig.Kube.ResumeWatches();

        var resolved = Assert.IsType<CallerOutcome.Resolved>(second);
        Assert.Equal(b.Metadata.Uid, resolved.Identity.PodUid);
    }

    [Fact]
    public async Task WatchDown_ConfirmedPodReplacedMeanwhile_NewOwnerIsNeverConfirmedAsTheOldPod()
    {
        await using var rig = await InformerRig.StartServerAsync();
        rig.AddPod("web-a", "10.0.0.5");
        var resolver = rig.Resolver(new IdentityOptions { ServiceAccountCacheTtl = TimeSpan.FromHours(1) });
        await rig.StartInformerAsync();
        await KubernetesLab.WaitUntilAsync(() => Task.FromResult(rig.Informer.Current && rig.Index.Count == 1));

        // The watch falls silent: A's next request is confirmed with a live List, and that answer is kept.
        rig.Kube.StallWatches();
        await KubernetesLab.WaitUntilAsync(() =>
        {
            rig.Clock.Advance(rig.SilenceLimit);
            return Task.FromResult(!rig.Informer.Current);
        });
        var listsBefore = rig.Kube.PodListCalls;
        var a = Assert.IsType<CallerOutcome.Resolved>(await resolver.ResolveAsync(Shared, TestContext.Current.CancellationToken));
        Assert.Equal(rig.Kube.GetPod("clock", "web-a")!.Metadata.Uid, a.Identity.PodUid);
        Assert.Equal(listsBefore + 1, rig.Kube.PodListCalls);

        // A is deleted and B takes its address; the watch delivers both, then the API server goes down, so the
        // watch is not current again and B's request must be confirmed while no List can be made.
        rig.Kube.DeletePod("clock", "web-a");
        var b = rig.AddPod("web-b", "10.0.0.5");
        rig.Kube.ResumeWatches();
        await KubernetesLab.WaitUntilAsync(() => Task.FromResult(rig.Index.ByUid(b.Metadata.Uid) is not null && rig.Index.Count == 1));
        rig.Kube.GoDown();
        await KubernetesLab.WaitUntilAsync(() => Task.FromResult(!rig.Informer.Current));

        var second = Assert.IsType<CallerOutcome.Resolved>(await resolver.ResolveAsync(Shared, TestContext.Current.CancellationToken));
        Assert.Equal(b.Metadata.Uid, second.Identity.PodUid);
    }

    [Fact]
    public async Task BurstFromAnAddressTheIndexDoesNotKnow_CostsOneList_UntilTheIndexChangesOrTheIntervalEnds()
    {
        await using var rig = await InformerRig.StartServerAsync();
        var resolver = rig.Resolver(new IdentityOptions { LookupWait = TimeSpan.Zero, ServiceAccountCacheTtl = TimeSpan.FromHours(1) });
        await rig.StartInformerAsync();
        await rig.Kube.WaitForOpenWatchesAsync(n => n == 1, TestContext.Current.CancellationToken);
        rig.Kube.StallWatches();
        var pod = rig.AddPod("web", "10.0.0.5");
        var lists = rig.Kube.PodListCalls;

        // Twenty requests at once, then twenty more: one List.
        var burst = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => resolver.ResolveAsync(Shared, TestContext.Current.CancellationToken).AsTask()));
        for (var i = 0; i < 20; i++)
            Assert.IsType<CallerOutcome.Resolved>(await resolver.ResolveAsync(Shared, TestContext.Current.CancellationToken));
        Assert.All(burst, outcome => Assert.Equal(pod.Metadata.Uid, Assert.IsType<CallerOutcome.Resolved>(outcome).Identity.PodUid));
        Assert.Equal(lists + 1, rig.Kube.PodListCalls);

        // The index learns something (here another pod's event): the answer naming the pod is asked for again, once.
        rig.Index.Upsert(new PodRecord("other-uid", "clock", "other", "app", [IPAddress.Parse("10.0.0.99")], "Running", HostNetwork: false, Terminating: false));
        for (var i = 0; i < 5; i++)
            Assert.IsType<CallerOutcome.Resolved>(await resolver.ResolveAsync(Shared, TestContext.Current.CancellationToken));
        Assert.Equal(lists + 2, rig.Kube.PodListCalls);

        // Nothing changes: the answer stands for the interval, not a tick longer.
        rig.Clock.Advance(PodLister.ConfirmationReuse - TimeSpan.FromTicks(1));
        Assert.IsType<CallerOutcome.Resolved>(await resolver.ResolveAsync(Shared, TestContext.Current.CancellationToken));
        Assert.Equal(lists + 2, rig.Kube.PodListCalls);
        rig.Clock.Advance(TimeSpan.FromTicks(1));
        Assert.IsType<CallerOutcome.Resolved>(await resolver.ResolveAsync(Shared, TestContext.Current.CancellationToken));
        Assert.Equal(lists + 3, rig.Kube.PodListCalls);
        rig.Kube.ResumeWatches();
    }

    [Fact]
    public async Task NobodyAtTheAddress_StandsForTheIntervalWhateverTheIndexLearns()
    {
        // "Nobody" can only refuse, so pod churn on the node does not turn an unknown caller's retries into Lists.
        await using var rig = await InformerRig.StartServerAsync();
        var resolver = rig.Resolver(new IdentityOptions { LookupWait = TimeSpan.Zero });
        await rig.StartInformerAsync();
        await rig.Kube.WaitForOpenWatchesAsync(n => n == 1, TestContext.Current.CancellationToken);
        var lists = rig.Kube.PodListCalls;

        for (var i = 0; i < 5; i++)
        {
            rig.AddPod($"other-{i}", $"10.0.0.{20 + i}");
            await KubernetesLab.WaitUntilAsync(() => Task.FromResult(rig.Index.Count == i + 1));
            var refused = Assert.IsType<CallerOutcome.Refused>(await resolver.ResolveAsync(Shared, TestContext.Current.CancellationToken));
            Assert.Equal(CallerRefusal.Unknown, refused.Reason);
        }

        Assert.Equal(lists + 1, rig.Kube.PodListCalls);
    }

    [Fact]
    public async Task ManyMissedAddresses_OnlyAnswersThatMayStillStandAreKept()
    {
        await using var rig = await InformerRig.StartServerAsync();
        var resolver = rig.Resolver(new IdentityOptions { LookupWait = TimeSpan.Zero });
        await rig.StartInformerAsync();
        await rig.Kube.WaitForOpenWatchesAsync(n => n == 1, TestContext.Current.CancellationToken);

        for (var i = 1; i <= 50; i++)
            Assert.IsType<CallerOutcome.Refused>(await resolver.ResolveAsync(IPAddress.Parse($"10.0.1.{i}"), TestContext.Current.CancellationToken));
        Assert.Equal(50, rig.Lister!.KeptAnswers);

        rig.Clock.Advance(PodLister.ConfirmationReuse);
        Assert.IsType<CallerOutcome.Refused>(await resolver.ResolveAsync(IPAddress.Parse("10.0.2.1"), TestContext.Current.CancellationToken));
        Assert.Equal(1, rig.Lister.KeptAnswers);
    }
}
