using k8s;
using k8s.Autorest;

namespace MetadataProxy.FunctionalTests.TestServers.Kubernetes;

/// <summary>The test server's stalled-watch and throttling modes, through the real KubernetesClient.</summary>
public sealed class FaultModeTests : KubernetesServerFixture
{
    [Fact]
    public async Task StalledWatch_StaysOpenAndSilentThenDeliversWhatQueued()
    {
        Server.BookmarkInterval = TimeSpan.FromMilliseconds(20);
        var list = await Client.CoreV1.ListPodForAllNamespacesAsync(cancellationToken: Ct);
        await using var watch = PodWatchRecorder.Start(Client, resourceVersion: list.Metadata.ResourceVersion, allowWatchBookmarks: true);
        Assert.Equal(WatchEventType.Bookmark, (await watch.NextAsync()).Type);

        Server.StallWatches();
        while (watch.TryTakeEvent(out _))
        {
            // Lines flushed before the stall.
        }

        Server.AddPod(TestPods.Running("default", "p", "node-a", "10.0.0.1"));
        await Task.Delay(300, Ct); // fifteen bookmark intervals: silence is what is being shown
        Assert.False(watch.TryTakeEvent(out var early), $"a stalled watch delivered {early.Type}");
        Assert.False(watch.Ended.IsCompleted, "a stalled watch must stay open");
        Assert.Equal(1, Server.OpenWatches);

        Server.ResumeWatches();
        Assert.Equal((WatchEventType.Added, "p"), await NextChangeAsync(watch));
    }

    [Fact]
    public async Task Throttle_Answers429WithRetryAfterHeaderAndStatus()
    {
        Server.Throttle(retryAfterSeconds: 7);
        var error = await Assert.ThrowsAsync<HttpOperationException>(() => Client.CoreV1.ListPodForAllNamespacesAsync(cancellationToken: Ct));
        Assert.Equal(HttpStatusCode.TooManyRequests, error.Response.StatusCode);
        Assert.Equal(["7"], error.Response.Headers["Retry-After"]);
        Assert.Contains("\"retryAfterSeconds\":7", error.Response.Content, StringComparison.Ordinal);
        Assert.Contains("\"reason\":\"TooManyRequests\"", error.Response.Content, StringComparison.Ordinal);
        Assert.Equal(1, Server.ThrottledRequests);

        Server.StopThrottling();
        Assert.NotNull(await Client.CoreV1.ListPodForAllNamespacesAsync(cancellationToken: Ct));
    }

    [Fact]
    public async Task ListWithResourceVersionZero_IsCountedAsFromTheWatchCache()
    {
        await Client.CoreV1.ListPodForAllNamespacesAsync(resourceVersion: "0", cancellationToken: Ct);
        await Client.CoreV1.ListPodForAllNamespacesAsync(cancellationToken: Ct);
        Assert.Equal(2, Server.PodListCalls);
        Assert.Equal(1, Server.PodListsFromCache);
    }

    private static async Task<(WatchEventType, string)> NextChangeAsync(PodWatchRecorder watch)
    {
        var next = await watch.NextChangeAsync();
        return (next.Type, next.Pod.Metadata.Name);
    }
}
