using MetadataProxy.Identity;
using MetadataProxy.Pods;

namespace MetadataProxy.FunctionalTests.Kubernetes;

/// <summary>
/// A ServiceAccount read that fails is not repeated by every request that finds the account stale (or not yet read):
/// the account is read again only at its retry time, after a back-off (1 s, doubling, to 30 s) and never before the
/// API server's Retry-After, while requests keep getting the last answer at once (principle 4). Every wait on a fake
/// clock; reads counted on the Kubernetes test server.
/// </summary>
public sealed class AccountReadRetryTests
{
    private static readonly IPAddress Web = IPAddress.Parse("10.0.0.5");

    [Fact]
    public async Task ThrottledApiServer_StaleAccount_ServesTheLastAnswerAndReadsAgainOnlyAfterRetryAfter()
    {
        await using var rig = await InformerRig.StartServerAsync();
        var resolver = await StartAsync(rig);
        var gets = rig.Kube.ServiceAccountGets;

        rig.Clock.Advance(TimeSpan.FromSeconds(11)); // the account is stale (the watch's silence limit is 2 min away)
        rig.Kube.Throttle(retryAfterSeconds: 60);
        try
        {
            var before = Reads(rig);
            await AssertResolvedAsync(resolver); // served at once; one read starts, throttled
            await ReadsSettleAsync(rig, before + 1);

            // Each request's read, had it started one, is over before the next: none can join another's.
            for (var i = 0; i < 20; i++)
                await AssertResolvedAndSettledAsync(rig, resolver);
            rig.Clock.Advance(TimeSpan.FromSeconds(60) - TimeSpan.FromMilliseconds(1));
            for (var i = 0; i < 5; i++)
                await AssertResolvedAndSettledAsync(rig, resolver);

            // At the Retry-After, and not before, the next request's read goes out (and succeeds: the server is back).
            rig.Kube.StopThrottling();
            rig.Clock.Advance(TimeSpan.FromMilliseconds(1));
            await AssertResolvedAsync(resolver);
            await KubernetesLab.WaitUntilAsync(() => Task.FromResult(rig.Kube.ServiceAccountGets == gets + 1 && !rig.Accounts!.IsReading("clock", "app")));
            Assert.Equal(before + 1, Reads(rig)); // 26 requests in the 60 s, one read
        }
        finally
        {
            rig.Kube.StopThrottling();
        }
    }

    [Fact]
    public async Task FailingApiServer_StaleAccount_ReadsAgainAfter1Then2Then4Seconds()
    {
        await using var rig = await InformerRig.StartServerAsync(jitter: 1.0); // each back-off at its ceiling
        var resolver = await StartAsync(rig);
        rig.Clock.Advance(TimeSpan.FromSeconds(11));
        rig.Kube.Throttle(retryAfterSeconds: 0); // a failure that asks for no wait of its own: the back-off alone decides
        try
        {
            var before = Reads(rig);
            var expected = before;
            // A request every 0.5 s for 10 s: reads at 0, 1, 3 and 7 s (waits of 1, 2, 4 s), not one per request.
            for (var half = 0; half < 20; half++)
            {
                await AssertResolvedAsync(resolver);
                if (half is 0 or 2 or 6 or 14)
                    expected++;
                await ReadsSettleAsync(rig, expected);
                rig.Clock.Advance(TimeSpan.FromMilliseconds(500));
            }

            await ReadsSettleAsync(rig, before + 4);
            Assert.Equal(before + 4, Reads(rig));
        }
        finally
        {
            rig.Kube.StopThrottling();
        }
    }

    [Fact]
    public async Task ThrottledApiServer_AccountNeverRead_IsRefusedAtOnceUntilTheRetryTime()
    {
        await using var rig = await InformerRig.StartServerAsync();
        rig.AddPod("web", "10.0.0.5");
        var resolver = rig.Resolver(new IdentityOptions { ServiceAccountCacheTtl = TimeSpan.FromSeconds(10) });
        await rig.StartInformerAsync();
        await WatchingAsync(rig);
        rig.Kube.Throttle(retryAfterSeconds: 5);
        try
        {
            var before = Reads(rig);
            for (var i = 0; i < 10; i++)
            {
                // The first waits for its read; the rest are answered the same at once, without a read of their own.
                var refused = Assert.IsType<CallerOutcome.Refused>(await resolver.ResolveAsync(Web, TestContext.Current.CancellationToken));
                Assert.Equal(CallerRefusal.ServiceAccountUnavailable, refused.Reason);
                Assert.Contains("Kubernetes service account clock/app could not be read", refused.Message, StringComparison.Ordinal);
            }

            rig.Kube.StopThrottling();
            rig.Clock.Advance(TimeSpan.FromSeconds(5));
            await AssertResolvedAsync(resolver);
            Assert.Equal(before + 1, Reads(rig));
            Assert.Equal(1, rig.Kube.ServiceAccountGets);
        }
        finally
        {
            rig.Kube.StopThrottling();
        }
    }

    private static async Task<KubernetesCallerResolver> StartAsync(InformerRig rig)
    {
        rig.AddPod("web", "10.0.0.5");
        var resolver = rig.Resolver(new IdentityOptions { ServiceAccountCacheTtl = TimeSpan.FromSeconds(10) });
        await rig.StartInformerAsync();
        await WatchingAsync(rig);
        await AssertResolvedAsync(resolver); // the account's first read
        Assert.Equal(1, rig.Kube.ServiceAccountGets);
        return resolver;
    }

    /// <summary>The informer has listed and its watch is open, so throttling meets only the reads a test counts.</summary>
    private static Task WatchingAsync(InformerRig rig) =>
        KubernetesLab.WaitUntilAsync(() => Task.FromResult(rig.Informer.Current && rig.Index.Count == 1 && rig.Kube.OpenWatches == 1));

    private static async Task AssertResolvedAsync(KubernetesCallerResolver resolver) =>
        Assert.IsType<CallerOutcome.Resolved>(await resolver.ResolveAsync(Web, TestContext.Current.CancellationToken));

    private static async Task AssertResolvedAndSettledAsync(InformerRig rig, KubernetesCallerResolver resolver)
    {
        await AssertResolvedAsync(resolver);
        await KubernetesLab.WaitUntilAsync(() => Task.FromResult(!rig.Accounts!.IsReading("clock", "app")));
    }

    /// <summary>API calls the throttling server turned away, other than the informer's watches: here, ServiceAccount reads.</summary>
    private static int Reads(InformerRig rig) => rig.Kube.ThrottledRequests - rig.Kube.ThrottledWatches;

    /// <summary>Waits until <paramref name="reads"/> reads reached the server and the last one's failure is recorded.</summary>
    private static Task ReadsSettleAsync(InformerRig rig, int reads) =>
        KubernetesLab.WaitUntilAsync(() => Task.FromResult(Reads(rig) >= reads && !rig.Accounts!.IsReading("clock", "app")));
}
