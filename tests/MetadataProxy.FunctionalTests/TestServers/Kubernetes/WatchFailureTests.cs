using k8s;
using k8s.Models;

namespace MetadataProxy.FunctionalTests.TestServers.Kubernetes;

public sealed class WatchFailureTests : KubernetesServerFixture
{
    [Fact]
    public async Task Watch_ResourceVersionExpired_ReportsA410StatusToOnErrorThenEnds()
    {
        Server.AddPod(TestPods.Running("default", "p", "node-a", "10.0.0.1"));
        var list = await Client.CoreV1.ListPodForAllNamespacesAsync(cancellationToken: Ct);
        Server.ExpireResourceVersions();

        await using var watch = PodWatchRecorder.Start(Client, resourceVersion: list.Metadata.ResourceVersion);

        var error = Assert.IsType<KubernetesException>(await watch.NextErrorAsync());
        Assert.Equal(410, error.Status.Code);
        Assert.Equal("Expired", error.Status.Reason);
        Assert.StartsWith($"too old resource version: {list.Metadata.ResourceVersion} (", error.Status.Message, StringComparison.Ordinal);
        Assert.Null(await watch.EndedWithin());
        Assert.False(watch.TryTakeEvent(out _));
    }

    [Fact]
    public async Task Watch_AfterExpiry_AFreshListResourceVersionIsWatchable()
    {
        Server.ExpireResourceVersions();
        var list = await Client.CoreV1.ListPodForAllNamespacesAsync(cancellationToken: Ct);

        await using var watch = PodWatchRecorder.Start(Client, resourceVersion: list.Metadata.ResourceVersion);
        Server.AddPod(TestPods.Running("default", "p", "node-a", "10.0.0.1"));

        Assert.Equal(WatchEventType.Added, (await watch.NextAsync()).Type);
    }

    [Fact]
    public async Task Watch_ObsoleteWatchAsyncOnExpiredResourceVersion_ReportsToOnErrorOnly()
    {
        var list = await Client.CoreV1.ListPodForAllNamespacesAsync(cancellationToken: Ct);
        Server.AddPod(TestPods.Running("default", "p", "node-a", "10.0.0.1"));
        Server.ExpireResourceVersions();
        var errors = new List<Exception>();
        var events = new List<WatchEventType>();

        var response = Client.CoreV1.ListPodForAllNamespacesWithHttpMessagesAsync(
            watch: true, resourceVersion: list.Metadata.ResourceVersion, allowWatchBookmarks: true, cancellationToken: Ct);
#pragma warning disable CS0618 // WatchAsync is obsolete in KubernetesClient 21; the generated WatchList…Async replaces it.
        await foreach (var (type, _) in response.WatchAsync<V1Pod, V1PodList>(errors.Add, Ct))
#pragma warning restore CS0618
        {
            events.Add(type);
        }

        Assert.Empty(events);
        var error = Assert.IsType<KubernetesException>(Assert.Single(errors));
        Assert.Equal(410, error.Status.Code);
    }

    [Fact]
    public async Task DropWatches_AfterEvents_EnumerationThrowsAndTheWatchIsClosed()
    {
        Server.AddPod(TestPods.Running("default", "p", "node-a", "10.0.0.1"));
        await using var watch = PodWatchRecorder.Start(Client);
        await watch.NextAsync();

        Server.DropWatches();

        // Mid-stream the reset surfaces from the line reader as a bare IOException ("Connection reset by peer").
        var ended = await watch.EndedWithin();
        Assert.IsType<IOException>(ended);
        Assert.Equal(0, Server.OpenWatches);
    }

    [Fact]
    public async Task DropWatches_BeforeAnyEvent_EnumerationThrows()
    {
        await using var watch = PodWatchRecorder.Start(Client);
        await Server.WaitForOpenWatchesAsync(n => n == 1, Ct).WaitAsync(TimeSpan.FromSeconds(10), Ct);

        Server.DropWatches();

        // Before the first line the client is still peeking inside the HTTP call: HttpRequestException.
        var ended = await watch.EndedWithin();
        var failure = Assert.IsType<HttpRequestException>(ended);
        Assert.IsType<IOException>(failure.InnerException);
    }

    [Fact]
    public async Task GoDown_ForADuration_CallsFailThenSucceedAfterIt()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        Server.Time = time;
        Server.GoDown(TimeSpan.FromSeconds(30));

        var down = await Assert.ThrowsAsync<HttpRequestException>(() => Client.CoreV1.ListPodForAllNamespacesAsync(cancellationToken: Ct));
        time.Advance(TimeSpan.FromSeconds(31));
        var up = await Client.CoreV1.ListPodForAllNamespacesAsync(cancellationToken: Ct);

        Assert.NotNull(down);
        Assert.Empty(up.Items);
    }

    [Fact]
    public async Task GoDown_OpenWatch_IsCutAndComeUpRestoresService()
    {
        Server.AddPod(TestPods.Running("default", "p", "node-a", "10.0.0.1"));
        await using var watch = PodWatchRecorder.Start(Client);
        await watch.NextAsync();

        Server.GoDown();
        var ended = await watch.EndedWithin();
        await Assert.ThrowsAsync<HttpRequestException>(() => Client.CoreV1.ReadNamespacedPodAsync("p", "default", cancellationToken: Ct));
        Server.ComeUp();
        var pod = await Client.CoreV1.ReadNamespacedPodAsync("p", "default", cancellationToken: Ct);

        Assert.IsType<IOException>(ended);
        Assert.Equal("p", pod.Metadata.Name);
    }
}
