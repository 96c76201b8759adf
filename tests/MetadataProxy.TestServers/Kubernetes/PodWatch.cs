using System.Threading.Channels;
using k8s.Models;

namespace MetadataProxy.TestServers.Kubernetes;

/// <summary>One open watch: the lines still to send, in resourceVersion order. The store writes to it under its
/// lock, so events, bookmarks and the end of the stream can never overtake each other.</summary>
internal sealed class PodWatch(string? ns, PodFieldSelector selector, Action abortConnection)
{
    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true });
    private volatile bool _aborted;
    private long _queued;
    private long _flushed;

    public ChannelReader<string> Lines => _lines.Reader;

    public bool Aborted => _aborted;

    public bool Matches(V1Pod pod) =>
        (ns is null || string.Equals(pod.Metadata.NamespaceProperty, ns, StringComparison.Ordinal)) && selector.Matches(pod);

    /// <summary>Lines queued so far; with <see cref="Flushed"/>, "has the client been sent everything up to now".</summary>
    public long Queued => Interlocked.Read(ref _queued);

    /// <summary>Lines written and flushed to the connection so far.</summary>
    public long Flushed => Interlocked.Read(ref _flushed);

    public void SendInitial(V1Pod pod) => Queue(WatchLines.Event("ADDED", pod));

    public void Send(PodChange change)
    {
        if (change.ForWatcher(Matches) is { } e)
        {
            Queue(WatchLines.Event(e.Type, e.Object));
        }
    }

    public void SendBookmark(long resourceVersion) => Queue(WatchLines.Bookmark(resourceVersion));

    public void MarkFlushed() => Interlocked.Increment(ref _flushed);

    private void Queue(string line)
    {
        if (_lines.Writer.TryWrite(line))
        {
            Interlocked.Increment(ref _queued);
        }
    }

    /// <summary>Ends the stream cleanly once the queued lines are sent (timeoutSeconds).</summary>
    public void End() => _lines.Writer.TryComplete();

    /// <summary>Cuts the connection mid-stream, without the terminating chunk.</summary>
    public void Abort()
    {
        _aborted = true;
        _lines.Writer.TryComplete();
        abortConnection();
    }
}
