using k8s.Models;
using MetadataProxy.Identity;
using MetadataProxy.Pods;

namespace MetadataProxy.FunctionalTests.Kubernetes;

/// <summary>
/// Which resourceVersion a relist asks for, against an API server whose watch cache is behind (several API servers
/// behind a load balancer, one of them lagging): the first list "0" (any state, from the cache), later lists "not
/// older than" the last resourceVersion the informer saw, and a consistent read ("" ) once that one is refused.
/// A relist must never take the index back in time: an address the informer saw pass from one pod to another must
/// not go back to the first pod, or the second would get the first one's identity.
/// </summary>
public sealed class PodRelistTests
{
    private static readonly IPAddress Reused = IPAddress.Parse("10.0.0.5");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task WatchAnswered410_WhileTheCacheStillHasTheOldPod_RelistsNotOlderThanWhatItSaw_AddressStaysWithTheNewPod()
    {
        await using var rig = await StartWithAddressReusedAsync(frozenCache: false);

        rig.Kube.AnswerWatchesGone(1);
        rig.Kube.EndWatches();

        // The resumed watch is refused 410: the informer relists at once, and the watch from that list stays silent.
        await KubernetesLab.WaitUntilAsync(() => Task.FromResult(rig.Kube.PodListCalls == 2 && rig.Kube.OpenWatches == 1));
        await AssertAddressIsP2Async(rig);
        Assert.Equal(["0", Rv(rig, "b", "p2")], rig.Kube.PodListVersions); // not "0" again: the cache would answer p1
    }

    [Fact]
    public async Task RelistRefusedAsTooLarge_ByACacheThatDoesNotCatchUp_IsRetriedAsAConsistentRead()
    {
        await using var rig = await StartWithAddressReusedAsync(frozenCache: true);

        rig.Kube.AnswerWatchesGone(1);
        rig.Kube.EndWatches();

        // Not older than p2's resourceVersion: the frozen cache answers 504 Too large resource version; after the
        // back-off the informer lists with no resourceVersion (client-go: lastSyncResourceVersionUnavailable).
        var (delay, _) = await rig.NextDelayAsync(0);
        Assert.Equal(2, rig.Kube.PodListCalls);
        rig.Clock.Advance(delay);
        await KubernetesLab.WaitUntilAsync(() => Task.FromResult(rig.Kube.PodListCalls == 3 && rig.Kube.OpenWatches == 1));
        Assert.Equal(["0", Rv(rig, "b", "p2"), ""], rig.Kube.PodListVersions);
        await AssertAddressIsP2Async(rig);
    }

    [Fact]
    public async Task WatchThatDeliveredThenBroke_AndIsRefused410_RelistsNotOlderThanItsLastEvent()
    {
        await using var rig = await InformerRig.StartServerAsync();
        rig.AddPod("web", "10.0.0.5");
        await rig.StartInformerAsync();
        await rig.Kube.WaitForOpenWatchesAsync(n => n == 1, Ct);
        var timers = rig.Clock.DueTimes.Count;
        var api = rig.AddPod("api", "10.0.0.6");
        await KubernetesLab.WaitUntilAsync(() => Task.FromResult(rig.Index.Count == 2));

        rig.Kube.AnswerWatchesGone(1);
        rig.Kube.DropWatches(); // a failure: back off, then resume; the resumed watch is refused 410
        var (delay, _) = await rig.NextDelayAsync(timers);
        rig.Clock.Advance(delay);

        await KubernetesLab.WaitUntilAsync(() => Task.FromResult(rig.Kube.PodListCalls == 2 && rig.Kube.OpenWatches == 1));
        Assert.Equal(["0", api.Metadata.ResourceVersion], rig.Kube.PodListVersions);
        Assert.Equal(2, rig.Index.Count);
    }

    /// <summary>
    /// p1 (a/x) holds 10.0.0.5 and the informer watches; the watch cache then falls behind with p1 in it; p1 is deleted
    /// and p2 (b/y) takes its address, both seen through the watch; watches are stalled from here on, as a watch
    /// served by the lagging cache would not deliver the newer changes either.
    /// </summary>
    private static async Task<InformerRig> StartWithAddressReusedAsync(bool frozenCache)
    {
        var rig = await InformerRig.StartServerAsync();
        try
        {
            AddPod(rig, "a", "p1", "x");
            await rig.StartInformerAsync();
            await rig.Kube.WaitForOpenWatchesAsync(n => n == 1, Ct);
            rig.Kube.ServeStalePodCache(frozenCache);

            rig.Kube.DeletePod("a", "p1");
            AddPod(rig, "b", "p2", "y");
            await KubernetesLab.WaitUntilAsync(() => Task.FromResult(OwnerName(rig) == "p2"));
            rig.Clock.Advance(TimeSpan.FromSeconds(2)); // the watch has lasted: its end is a normal one
            rig.Kube.StallWatches();
            return rig;
        }
        catch
        {
            await rig.DisposeAsync();
            throw;
        }
    }

    private static async Task AssertAddressIsP2Async(InformerRig rig)
    {
        Assert.Equal("p2", OwnerName(rig));
        var resolver = rig.Resolver(new IdentityOptions());
        var resolved = Assert.IsType<CallerOutcome.Resolved>(await resolver.ResolveAsync(Reused, Ct));
        Assert.Equal(("b", "y", "p2"), (resolved.Identity.Namespace, resolved.Identity.KubernetesServiceAccount, resolved.Identity.PodName));
    }

    private static string? OwnerName(InformerRig rig) => rig.Index.OwnerOf(Reused) is AddressOwner.One one ? one.Pod.Name : null;

    private static string Rv(InformerRig rig, string ns, string name) => rig.Kube.GetPod(ns, name)!.Metadata.ResourceVersion;

    private static void AddPod(InformerRig rig, string ns, string name, string account)
    {
        if (rig.Kube.GetServiceAccount(ns, account) is null)
            rig.Kube.AddServiceAccount(new V1ServiceAccount { Metadata = new V1ObjectMeta { Name = account, NamespaceProperty = ns } });
        rig.Kube.AddPod(new V1Pod
        {
            Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns },
            Spec = new V1PodSpec { NodeName = InformerRig.NodeName, ServiceAccountName = account, Containers = [new V1Container { Name = "app", Image = "app:1" }] },
            Status = new V1PodStatus { Phase = "Running", PodIP = "10.0.0.5", PodIPs = [new V1PodIP { Ip = "10.0.0.5" }] },
        });
    }
}
