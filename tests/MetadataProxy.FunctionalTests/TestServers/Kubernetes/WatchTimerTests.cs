using k8s;
using Microsoft.Extensions.Time.Testing;

namespace MetadataProxy.FunctionalTests.TestServers.Kubernetes;

/// <summary>
/// A watch counted open (OpenWatches, WaitForOpenWatchesAsync) already has its timeoutSeconds and bookmark timers on
/// the server's clock: tests that share a fake clock with the server advance it as soon as they see a watch open.
/// Many rounds, because the window the old order left open was a few microseconds wide (1 to 3 of 150 rounds hit it).
/// </summary>
public sealed class WatchTimerTests : KubernetesServerFixture
{
    private const int Rounds = 150;

    // Real time a stream is given to react to an advance; a miss costs this once, then the clock is moved again so
    // that the round still ends: the test stays bounded on a server with the defect.
    private static readonly TimeSpan Reaction = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task OpenWatchSeen_ClockPassesTimeoutSecondsAtOnce_EveryStreamEnds()
    {
        var time = new FakeTimeProvider();
        Server.Time = time;
        var missed = 0;
        for (var i = 0; i < Rounds; i++)
        {
            await using var watch = PodWatchRecorder.Start(Client, timeoutSeconds: 5);
            await Server.WaitForOpenWatchesAsync(n => n == 1, Ct).WaitAsync(Patience, Ct);
            time.Advance(TimeSpan.FromSeconds(5));
            if (await Task.WhenAny(watch.Ended, Task.Delay(Reaction, Ct)) != watch.Ended)
            {
                missed++; // its timer was created after the advance and waits another 5 s of fake time
                time.Advance(TimeSpan.FromSeconds(5));
            }

            // How it ends is not the point: KubernetesClient reports a stream that ended before any line as an error.
            await watch.Ended.WaitAsync(Patience, Ct);
            await Server.WaitForOpenWatchesAsync(n => n == 0, Ct).WaitAsync(Patience, Ct);
        }

        Assert.True(missed == 0, $"{missed} of {Rounds} watches did not end when the clock passed their timeoutSeconds");
    }

    [Fact]
    public async Task OpenWatchSeen_ClockPassesBookmarkIntervalAtOnce_EveryStreamGetsABookmark()
    {
        var time = new FakeTimeProvider();
        Server.Time = time;
        Server.BookmarkInterval = TimeSpan.FromMinutes(1);
        var missed = 0;
        for (var i = 0; i < Rounds; i++)
        {
            var rv = (await Client.CoreV1.ListPodForAllNamespacesAsync(cancellationToken: Ct)).Metadata.ResourceVersion;
            await using var watch = PodWatchRecorder.Start(Client, resourceVersion: rv, allowWatchBookmarks: true);
            await Server.WaitForOpenWatchesAsync(n => n == 1, Ct).WaitAsync(Patience, Ct);
            time.Advance(TimeSpan.FromMinutes(1));
            var next = watch.NextAsync();
            if (await Task.WhenAny(next, Task.Delay(Reaction, Ct)) != next)
            {
                missed++; // its bookmark timer was created after the advance
                time.Advance(TimeSpan.FromMinutes(1));
            }

            var bookmark = await next;
            Assert.Equal((WatchEventType.Bookmark, rv), (bookmark.Type, bookmark.Pod.Metadata.ResourceVersion));
            Server.DropWatches();
            await Server.WaitForOpenWatchesAsync(n => n == 0, Ct).WaitAsync(Patience, Ct);
        }

        Assert.True(missed == 0, $"{missed} of {Rounds} watches got no bookmark when the clock passed the bookmark interval");
    }
}
