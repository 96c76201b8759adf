using k8s;

namespace MetadataProxy.FunctionalTests.TestServers.Kubernetes;

public sealed class WatchTests : KubernetesServerFixture
{
    [Fact]
    public async Task Watch_NoResourceVersion_SendsInitialAddedThenChangesInOrder()
    {
        Server.AddPod(TestPods.Running("default", "existing", "node-a", "10.0.0.1"));
        await using var watch = PodWatchRecorder.Start(Client);

        var initial = await watch.NextAsync();
        Server.AddPod(TestPods.Running("default", "new", "node-a", "10.0.0.2"));
        Server.UpdatePod("default", "new", p => p.Metadata.Labels = new Dictionary<string, string> { ["v"] = "2" });
        var deletedRv = Server.MarkPodTerminating("default", "existing").Metadata.ResourceVersion;
        Server.DeletePod("default", "existing");

        Assert.Equal((WatchEventType.Added, "existing"), (initial.Type, initial.Pod.Metadata.Name));
        Assert.Equal((WatchEventType.Added, "new"), Summary(await watch.NextAsync()));
        var modified = await watch.NextAsync();
        Assert.Equal((WatchEventType.Modified, "new"), Summary(modified));
        Assert.Equal("2", modified.Pod.Metadata.Labels["v"]);
        var terminating = await watch.NextAsync();
        Assert.Equal((WatchEventType.Modified, "existing"), Summary(terminating));
        Assert.NotNull(terminating.Pod.Metadata.DeletionTimestamp);
        var deleted = await watch.NextAsync();
        Assert.Equal((WatchEventType.Deleted, "existing"), Summary(deleted));
        Assert.NotNull(deleted.Pod.Metadata.DeletionTimestamp);
        Assert.True(long.Parse(deleted.Pod.Metadata.ResourceVersion) > long.Parse(deletedRv));
    }

    [Fact]
    public async Task Watch_AllowBookmarks_SendsBookmarksAtTheCurrentResourceVersion()
    {
        Server.BookmarkInterval = TimeSpan.FromMilliseconds(50);
        Server.AddPod(TestPods.Running("default", "p", "node-a", "10.0.0.1"));
        var list = await Client.CoreV1.ListPodForAllNamespacesAsync(cancellationToken: Ct);
        await using var watch = PodWatchRecorder.Start(Client, resourceVersion: list.Metadata.ResourceVersion, allowWatchBookmarks: true);

        var bookmark = await watch.NextAsync();

        Assert.Equal(WatchEventType.Bookmark, bookmark.Type);
        Assert.Equal(list.Metadata.ResourceVersion, bookmark.Pod.Metadata.ResourceVersion);
        Assert.Null(bookmark.Pod.Metadata.Name);
        Assert.Null(bookmark.Pod.Spec);
    }

    [Fact]
    public async Task Watch_WithoutAllowBookmarks_SendsNoBookmarks()
    {
        Server.BookmarkInterval = TimeSpan.FromMilliseconds(20);
        var list = await Client.CoreV1.ListPodForAllNamespacesAsync(cancellationToken: Ct);
        await using var watch = PodWatchRecorder.Start(Client, resourceVersion: list.Metadata.ResourceVersion);
        await using var witness = PodWatchRecorder.Start(Client, resourceVersion: list.Metadata.ResourceVersion, allowWatchBookmarks: true);

        // Three bookmarks on the other watch prove that time passed on both.
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(WatchEventType.Bookmark, (await witness.NextAsync()).Type);
        }

        Server.AddPod(TestPods.Running("default", "p", "node-a", "10.0.0.1"));
        Assert.Equal((WatchEventType.Added, "p"), Summary(await watch.NextAsync()));
    }

    [Fact]
    public async Task Watch_FromResourceVersion_ReplaysOnlyNewerEvents()
    {
        Server.AddPod(TestPods.Running("default", "before", "node-a", "10.0.0.1"));
        var list = await Client.CoreV1.ListPodForAllNamespacesAsync(cancellationToken: Ct);
        Server.AddPod(TestPods.Running("default", "after", "node-a", "10.0.0.2"));
        Server.UpdatePod("default", "before", p => p.Metadata.Labels = new Dictionary<string, string> { ["x"] = "y" });

        await using var watch = PodWatchRecorder.Start(Client, resourceVersion: list.Metadata.ResourceVersion);

        Assert.Equal((WatchEventType.Added, "after"), Summary(await watch.NextAsync()));
        Assert.Equal((WatchEventType.Modified, "before"), Summary(await watch.NextAsync()));
        Server.DeletePod("default", "after");
        Assert.Equal((WatchEventType.Deleted, "after"), Summary(await watch.NextAsync()));
    }

    [Fact]
    public async Task Watch_FieldSelectorTransitions_SendsDeletedOnLeavingAndAddedOnEntering()
    {
        Server.AddPod(TestPods.Running("default", "p", "node-a", "10.0.0.1"));
        await using var watch = PodWatchRecorder.Start(Client, fieldSelector: "spec.nodeName=node-a,status.phase=Running");
        Assert.Equal((WatchEventType.Added, "p"), Summary(await watch.NextAsync()));

        Server.UpdatePod("default", "p", p => p.Status.Phase = "Succeeded");
        var left = await watch.NextAsync();
        Server.UpdatePod("default", "p", p => p.Metadata.Labels = new Dictionary<string, string> { ["unseen"] = "yes" });
        Server.UpdatePod("default", "p", p => p.Status.Phase = "Running");
        var entered = await watch.NextAsync();

        Assert.Equal((WatchEventType.Deleted, "p"), Summary(left));
        Assert.Equal("Running", left.Pod.Status.Phase); // the last state that matched
        Assert.Equal((WatchEventType.Added, "p"), Summary(entered));
        Assert.Equal("yes", entered.Pod.Metadata.Labels["unseen"]);
        Assert.True(long.Parse(entered.Pod.Metadata.ResourceVersion) > long.Parse(left.Pod.Metadata.ResourceVersion));
    }

    [Fact]
    public async Task Watch_OtherNodesPods_AreNotSent()
    {
        await using var watch = PodWatchRecorder.Start(Client, fieldSelector: "spec.nodeName=node-a", resourceVersion: "0");
        Server.AddPod(TestPods.Running("default", "elsewhere", "node-b", "10.0.0.9"));
        Server.AddPod(TestPods.Running("default", "here", "node-a", "10.0.0.1"));

        Assert.Equal((WatchEventType.Added, "here"), Summary(await watch.NextAsync()));
    }

    [Fact]
    public async Task Watch_TimeoutSecondsAfterEvents_EndsTheEnumerationCleanly()
    {
        Server.AddPod(TestPods.Running("default", "p", "node-a", "10.0.0.1"));
        await using var watch = PodWatchRecorder.Start(Client, timeoutSeconds: 1);
        Assert.Equal((WatchEventType.Added, "p"), Summary(await watch.NextAsync()));

        var ended = await watch.EndedWithin();

        Assert.Null(ended);
        Assert.Equal(0, Server.OpenWatches);
    }

    [Fact]
    public async Task Watch_TimeoutSecondsWithoutAnyEvent_ClientThrowsEndOfStream()
    {
        // KubernetesClient peeks the first line before it hands out the stream: a watch that ends before its
        // first event surfaces as an exception, not as an empty enumeration. The real API server ends idle
        // watches the same way.
        await using var watch = PodWatchRecorder.Start(Client, timeoutSeconds: 1);

        var ended = await watch.EndedWithin();

        var failure = Assert.IsType<HttpRequestException>(ended);
        Assert.IsType<EndOfStreamException>(failure.InnerException);
    }

    private static (WatchEventType, string) Summary((WatchEventType Type, k8s.Models.V1Pod Pod) e) => (e.Type, e.Pod.Metadata.Name);
}
