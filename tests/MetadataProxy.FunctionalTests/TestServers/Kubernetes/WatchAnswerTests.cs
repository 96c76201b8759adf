using System.Text.Json.Nodes;
using k8s;
using k8s.Autorest;
using k8s.Models;
using MetadataProxy.Kubernetes;

namespace MetadataProxy.FunctionalTests.TestServers.Kubernetes;

/// <summary>
/// The switches for the two watch answers that are not a lasting stream: a watch request refused with HTTP 410 and an
/// Expired Status, and a stream that ends at once. On the wire, for pods and ServiceAccounts alike, and as the real
/// KubernetesClient surfaces them (what the pod informer and the ServiceAccount feed must recognise).
/// </summary>
public sealed class WatchAnswerTests : KubernetesServerFixture
{
    [Theory]
    [InlineData("api/v1/pods")]
    [InlineData("api/v1/namespaces/default/pods")]
    [InlineData("api/v1/serviceaccounts")]
    [InlineData("api/v1/namespaces/default/serviceaccounts")]
    public async Task AnswerWatchesGone_WatchRequest_Is410WithTheExpiredStatus_ThenWatchesStreamAgain(string path)
    {
        Server.AddPod(TestPods.Running("default", "p", "node-a", "10.0.0.1"));
        Server.AddServiceAccount(TestPods.ServiceAccount("default", "app"));
        using var http = RawHttp.Create(Server);
        Server.AnswerWatchesGone(1);

        using var refused = await http.GetAsync($"{path}?watch=true&resourceVersion=2&allowWatchBookmarks=true", Ct);
        var body = JsonNode.Parse(await refused.Content.ReadAsStringAsync(Ct))!.AsObject();

        Assert.Equal(HttpStatusCode.Gone, refused.StatusCode);
        Assert.Equal("application/json", refused.Content.Headers.ContentType?.MediaType);
        Assert.Equal(
            ["kind", "apiVersion", "metadata", "status", "message", "reason", "code"],
            body.Select(p => p.Key));
        Assert.Equal("Status", (string?)body["kind"]);
        Assert.Equal("v1", (string?)body["apiVersion"]);
        Assert.Equal("Failure", (string?)body["status"]);
        Assert.Equal("Expired", (string?)body["reason"]);
        Assert.Equal(410, (int?)body["code"]);
        Assert.Equal("too old resource version: 2 (3)", (string?)body["message"]);
        Assert.Equal(1, Server.WatchesAnsweredGone);

        // Only the next one: the following watch is a stream again.
        using var streamed = await http.GetAsync($"{path}?watch=true&resourceVersion=2", HttpCompletionOption.ResponseHeadersRead, Ct);
        Assert.Equal(HttpStatusCode.OK, streamed.StatusCode);
        Assert.Equal(1, Server.WatchesAnsweredGone);
    }

    [Fact]
    public async Task AnswerWatchesGone_KubernetesClient_EnumerationThrowsHttpOperationException410_AndOnErrorHearsNothing()
    {
        var list = await Client.CoreV1.ListPodForAllNamespacesAsync(cancellationToken: Ct);
        Server.AnswerWatchesGone(1);

        await using var watch = PodWatchRecorder.Start(Client, resourceVersion: list.Metadata.ResourceVersion, allowWatchBookmarks: true);

        // Unlike an ERROR event on a 200 stream (onError, then a clean end), the answer to the request itself throws.
        var ended = Assert.IsType<HttpOperationException>(await watch.EndedWithin());
        Assert.Equal(HttpStatusCode.Gone, ended.Response.StatusCode);
        Assert.Equal("Expired", (string?)JsonNode.Parse(ended.Response.Content)!["reason"]);
        Assert.Equal(1, Server.PodWatchCalls);
        Assert.False(watch.TryTakeError(out var reported), $"onError heard {reported?.GetType().Name}");
    }

    [Fact]
    public async Task AnswerWatchesGone_ServiceAccountWatch_ThroughTheKubernetesClient_Throws410()
    {
        var list = await Client.CoreV1.ListServiceAccountForAllNamespacesAsync(cancellationToken: Ct);
        Server.AnswerWatchesGone(1);

        var e = await Assert.ThrowsAsync<HttpOperationException>(async () =>
        {
            await foreach (var _ in Client.CoreV1.WatchListServiceAccountForAllNamespacesAsync(resourceVersion: list.Metadata.ResourceVersion, cancellationToken: Ct))
                Assert.Fail("a refused watch delivers no event");
        });

        Assert.Equal(HttpStatusCode.Gone, e.Response.StatusCode);
        Assert.Equal(1, Server.ServiceAccountWatches);
    }

    [Fact]
    public async Task EndWatchesAtOnce_WatchFromTheLatestResourceVersion_Is200AndEndsWithoutALine()
    {
        Server.AddPod(TestPods.Running("default", "p", "node-a", "10.0.0.1"));
        var list = await Client.CoreV1.ListPodForAllNamespacesAsync(cancellationToken: Ct);
        using var http = RawHttp.Create(Server);
        Server.EndWatchesAtOnce();

        using var ended = await http.GetAsync($"api/v1/pods?watch=true&resourceVersion={list.Metadata.ResourceVersion}&allowWatchBookmarks=true&timeoutSeconds=300", Ct);

        Assert.Equal(HttpStatusCode.OK, ended.StatusCode);
        Assert.Equal("application/json", ended.Content.Headers.ContentType?.MediaType);
        Assert.Equal("", await ended.Content.ReadAsStringAsync(Ct));
        Assert.Equal(0, Server.OpenWatches);
    }

    [Fact]
    public async Task EndWatchesAtOnce_EmptyStream_KubernetesClientThrowsEndOfStream_NotACleanEnd()
    {
        var list = await Client.CoreV1.ListPodForAllNamespacesAsync(cancellationToken: Ct);
        Server.EndWatchesAtOnce();

        await using var watch = PodWatchRecorder.Start(Client, resourceVersion: list.Metadata.ResourceVersion, allowWatchBookmarks: true);

        // The client reads the first line before it yields anything; a 200 stream with none throws instead of ending.
        var ended = await watch.EndedWithin();
        Assert.NotNull(ended);
        Assert.True(WatchAttempt.IsEmptyEnd(ended), ended.ToString());
        Assert.False(watch.TryTakeError(out _));
        Assert.Equal(1, Server.PodWatchCalls);
    }

    [Fact]
    public async Task EndWatchesAtOnce_ThroughTheKubernetesClient_SendsWhatItReplays_ThenEndsCleanly()
    {
        var list = await Client.CoreV1.ListServiceAccountForAllNamespacesAsync(cancellationToken: Ct);
        Server.AddServiceAccount(TestPods.ServiceAccount("a", "later"));
        Server.EndWatchesAtOnce();

        var seen = new List<string>();
        await foreach (var (type, account) in Client.CoreV1.WatchListServiceAccountForAllNamespacesAsync(resourceVersion: list.Metadata.ResourceVersion, cancellationToken: Ct))
            seen.Add($"{type} {account.Metadata.Name}");

        Assert.Equal(["Added later"], seen);

        Server.StopEndingWatches();
        await using var open = PodWatchRecorder.Start(Client);
        await Server.WaitForOpenWatchesAsync(n => n == 1, Ct).WaitAsync(TimeSpan.FromSeconds(10), Ct); // streams last again
    }

    [Fact]
    public async Task EndWatches_OpenWatch_EndsCleanlyAfterItsQueuedLines()
    {
        await using var watch = PodWatchRecorder.Start(Client);
        await Server.WaitForOpenWatchesAsync(n => n == 1, Ct).WaitAsync(TimeSpan.FromSeconds(10), Ct);
        Server.AddPod(TestPods.Running("default", "p", "node-a", "10.0.0.1"));

        Server.EndWatches();

        Assert.Null(await watch.EndedWithin()); // the terminating chunk: no exception, unlike DropWatches
        Assert.True(watch.TryTakeEvent(out var added));
        Assert.Equal((WatchEventType.Added, "p"), (added.Type, added.Pod.Metadata.Name));
        Assert.Equal(0, Server.OpenWatches);
    }
}
