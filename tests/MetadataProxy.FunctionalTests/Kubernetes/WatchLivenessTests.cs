using MetadataProxy.FunctionalTests.Infrastructure;

namespace MetadataProxy.FunctionalTests.Kubernetes;

/// <summary>A lab whose watch expects a bookmark every second (the test server sends one every second).</summary>
public sealed class FastBookmarkLab : IAsyncLifetime
{
    public KubernetesLab Lab { get; } = new();

    public ValueTask InitializeAsync()
    {
        Lab.Settings["Kubernetes:WatchBookmarkInterval"] = "00:00:01";
        return Lab.InitializeAsync();
    }

    public ValueTask DisposeAsync() => Lab.DisposeAsync();
}

/// <summary>
/// Issue 9's code review: a watch that stays open but silent must not leave the index claiming to be current (the
/// IP-reuse guarantees rest on a live watch), and a throttling API server's Retry-After is honoured.
/// </summary>
public sealed class WatchLivenessTests(FastBookmarkLab fixture) : IClassFixture<FastBookmarkLab>
{
    private const string Email = "/computeMetadata/v1/instance/service-accounts/default/email";
    private readonly KubernetesLab lab = fixture.Lab;

    [Fact]
    public async Task StalledWatch_IsDetectedAndCallersAreConfirmedWithTheApiServer()
    {
        lab.AddPod("live", "before", "127.0.0.100", "before", gsa: "before@test-project.iam.gserviceaccount.com");
        await lab.WaitForEmailAsync("127.0.0.100", "before@test-project.iam.gserviceaccount.com");
        var silent = await lab.MetricAsync("metadata_proxy_pod_watch_silent_total");
        var watches = lab.Kube.PodWatchCalls;

        lab.Kube.StallWatches();
        try
        {
            // Twice the 1 s bookmark interval without a word: the watch is not current and is restarted.
            await KubernetesLab.WaitUntilAsync(async () => await lab.MetricAsync("metadata_proxy_pod_watch_silent_total") > silent, seconds: 10);
            await KubernetesLab.WaitUntilAsync(() => Task.FromResult(lab.Kube.PodWatchCalls > watches));

            // The address passes to another pod while the node hears nothing: the caller is confirmed with the API.
            lab.Kube.DeletePod("live", "before");
            lab.AddPod("live", "after", "127.0.0.100", "after", gsa: "after@test-project.iam.gserviceaccount.com");
            var answers = new List<string>();
            for (var i = 0; i < 10; i++)
            {
                var (response, body) = await lab.Client("127.0.0.100").GetWithBodyAsync(Email);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                answers.Add(body);
            }

            Assert.All(answers, a => Assert.Equal("after@test-project.iam.gserviceaccount.com", a));
            Assert.True(await lab.MetricAsync("metadata_proxy_caller_resolutions_total{outcome=\"verified\"}") >= 1);
        }
        finally
        {
            lab.Kube.ResumeWatches();
        }

        // Flowing again: the index is current and answers without the API server.
        // Each probe asks, so that the index outcome can move at all; it moves once the index is current again.
        const string FromIndex = "metadata_proxy_caller_resolutions_total{outcome=\"index\"}";
        var lists = lab.Kube.PodListCalls;
        var fromIndex = await lab.MetricAsync(FromIndex);
        await KubernetesLab.WaitUntilAsync(async () =>
        {
            var (response, body) = await lab.Client("127.0.0.100").GetWithBodyAsync(Email);
            if (response.StatusCode == HttpStatusCode.OK)
                Assert.Equal("after@test-project.iam.gserviceaccount.com", body); // never the old pod's, on any path
            return await lab.MetricAsync(FromIndex) > fromIndex;
        });
        var listsAfter = lab.Kube.PodListCalls;
        for (var i = 0; i < 10; i++)
            Assert.Equal("after@test-project.iam.gserviceaccount.com", (await lab.Client("127.0.0.100").GetWithBodyAsync(Email)).Body);
        Assert.True(lab.Kube.PodListCalls - listsAfter <= 1, $"{lab.Kube.PodListCalls - listsAfter} lists for 10 requests once the watch flowed again (from {lists})");
    }

    /// <summary>
    /// The real stack end to end: a throttled watch (429 with Retry-After) resumes once the API server lets it. That it
    /// waits exactly the Retry-After and not its shorter back-off is shown on a fake clock, in
    /// <see cref="PodInformerClockTests.ThrottledWatch_WaitsTheRetryAfterOnTheClock_NotTheShorterBackOff"/>.
    /// </summary>
    [Fact]
    public async Task ThrottlingApiServer_WatchResumesOnceThrottlingStops()
    {
        lab.AddPod("live", "steady", "127.0.0.101", "steady", gsa: "steady@test-project.iam.gserviceaccount.com");
        await lab.WaitForEmailAsync("127.0.0.101", "steady@test-project.iam.gserviceaccount.com");
        await lab.Kube.WaitForOpenWatchesAsync(n => n == 1, TestContext.Current.CancellationToken);

        var throttledBefore = lab.Kube.ThrottledWatches;
        lab.Kube.Throttle(retryAfterSeconds: 5);
        try
        {
            lab.Kube.DropWatches();
            await KubernetesLab.WaitUntilAsync(() => Task.FromResult(lab.Kube.ThrottledWatches > throttledBefore));
            Assert.Equal(0, lab.Kube.OpenWatches);
        }
        finally
        {
            lab.Kube.StopThrottling();
        }

        await lab.Kube.WaitForOpenWatchesAsync(n => n == 1, TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
    }
}
