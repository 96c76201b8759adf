using MetadataProxy.Identity;

namespace MetadataProxy.FunctionalTests.Kubernetes;

/// <summary>
/// Identity:IndexStalenessLimit on a fake clock: with the API server down, a known pod keeps its identity until
/// exactly the limit after the index last heard from the API server, and is refused one millisecond later.
/// </summary>
public sealed class StalenessClockTests
{
    private static readonly IPAddress Web = IPAddress.Parse("10.0.0.5");

    [Fact]
    public async Task ApiServerDown_KnownPodResolvesUpToTheStalenessLimit_ThenIsRefused_ThenResolvesOnceTheWatchIsBack()
    {
        await using var rig = await InformerRig.StartServerAsync();
        rig.AddPod("web", "10.0.0.5");
        var limit = TimeSpan.FromSeconds(10);
        var resolver = rig.Resolver(new IdentityOptions { IndexStalenessLimit = limit, ServiceAccountCacheTtl = TimeSpan.FromHours(1) });
        await rig.StartInformerAsync();
        await KubernetesLab.WaitUntilAsync(() => Task.FromResult(rig.Informer.Current && rig.Index.Count == 1));
        Assert.IsType<CallerOutcome.Resolved>(await resolver.ResolveAsync(Web, TestContext.Current.CancellationToken)); // reads its ServiceAccount
        var lastContact = rig.Informer.LastContact!.Value;

        rig.Kube.GoDown();
        await KubernetesLab.WaitUntilAsync(() => Task.FromResult(!rig.Informer.Current));
        rig.Clock.Advance(lastContact + limit - rig.Clock.GetUtcNow());
        Assert.IsType<CallerOutcome.Resolved>(await resolver.ResolveAsync(Web, TestContext.Current.CancellationToken));

        rig.Clock.Advance(TimeSpan.FromMilliseconds(1));
        var refused = Assert.IsType<CallerOutcome.Refused>(await resolver.ResolveAsync(Web, TestContext.Current.CancellationToken));
        Assert.Equal(CallerRefusal.Unknown, refused.Reason);
        Assert.Contains("has not heard from the Kubernetes API for over 10 s", refused.Message, StringComparison.Ordinal);
        Assert.Equal(lastContact, rig.Informer.LastContact); // the failed attempts meanwhile were no contact

        // Back up: once the informer's wait is over it resumes its watch, and once that delivers (here a new pod's
        // event; a bookmark on a real cluster) the index vouches for the pod again.
        rig.Kube.ComeUp();
        rig.AddPod("api", "10.0.0.6");
        await KubernetesLab.WaitUntilAsync(() =>
        {
            rig.Clock.Advance(rig.Options.ReconnectDelayMax); // past any back-off the informer is parked on
            return Task.FromResult(rig.Informer.Current);
        });
        Assert.IsType<CallerOutcome.Resolved>(await resolver.ResolveAsync(Web, TestContext.Current.CancellationToken));
    }
}
