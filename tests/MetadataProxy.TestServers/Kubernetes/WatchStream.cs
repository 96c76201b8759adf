using k8s;
using k8s.Models;

namespace MetadataProxy.TestServers.Kubernetes;

/// <summary>Serves one <c>watch=true</c> request of any kind: 200, application/json, chunked, one event per line,
/// flushed per event, until timeoutSeconds, the client leaves, or the server cuts the connection; or the 410 Status
/// instead of a stream, or a stream that ends at once, when <see cref="WatchAnswers"/> says so.</summary>
internal static class WatchStream
{
    public static async Task RunAsync<T>(HttpContext context, ClusterStore store, ServerSettings settings, WatchRequest request, string kind, Func<T, bool> matches)
        where T : class, IKubernetesObject<V1ObjectMeta>, new()
    {
        var aborted = context.RequestAborted;
        if (settings.WatchAnswers.TakeGone())
        {
            // Refused on the request itself: 410 and the Status as the response, no stream.
            await KubeResults.WriteStatusAsync(context, KubeStatus.Expired(request.From ?? 0, store.CurrentResourceVersion));
            return;
        }

        var watch = new ObjectWatch<T>(kind, matches, context.Abort);
        var cuts = store.WatchCuts; // a DropWatches, GoDown or EndWatches from here on reaches this watch too

        // The timers exist on the server's clock and the headers are out before the watch is registered and counted
        // open: a test that sees it open and moves a shared fake clock at once moves these timers too.
        var interval = settings.BookmarkInterval;
        using var bookmarks = request.AllowBookmarks
            ? settings.Time.CreateTimer(_ => store.SendBookmark(watch), null, interval, interval)
            : null;
        using var timeout = request.Timeout is { } t
            ? settings.Time.CreateTimer(_ => watch.End(), null, t, Timeout.InfiniteTimeSpan)
            : null;
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = KubeResults.JsonContentType;
        try
        {
            // Headers go out at once, as the API server flushes them before the first event.
            await context.Response.StartAsync(aborted);
            await context.Response.Body.FlushAsync(aborted);
            if (store.StartWatch(watch, request.From, cuts) is { } expired)
            {
                // The watch cache answers a too-old resourceVersion with one ERROR event and ends the stream.
                await context.Response.WriteAsync(WatchLines.Error(expired), aborted);
                return;
            }

            if (settings.WatchAnswers.EndAtOnce)
            {
                watch.End(); // what the watch replays is still sent, then the stream ends
            }

            await foreach (var line in watch.Lines.ReadAllAsync(aborted))
            {
                // A stalled watch keeps its connection open and says nothing, bookmarks included, until released.
                await settings.WatchStall.WaitAsync(aborted);
                await context.Response.WriteAsync(line, aborted);
                await context.Response.Body.FlushAsync(aborted);
                watch.MarkFlushed();
            }
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            // The client went away, or DropWatches/GoDown cut the connection.
        }
        catch (IOException)
        {
            // The connection broke under a write.
        }
        finally
        {
            store.StopWatch(watch);
        }

        if (watch.Aborted)
        {
            context.Abort();
        }
    }
}
