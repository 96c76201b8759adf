using System.Threading.Channels;
using k8s;
using k8s.Models;

namespace MetadataProxy.TestServers.Kubernetes;

/// <summary>One open watch of one kind: the lines still to send, in resourceVersion order. The store writes to it
/// under its lock, so events, bookmarks and the end of the stream can never overtake each other.</summary>
internal sealed class ObjectWatch<T>(string kind, Func<T, bool> matches, Action abortConnection) : IObjectWatch
    where T : class, IKubernetesObject<V1ObjectMeta>, new()
{
    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true });
    private volatile bool _aborted;
    private long _queued;
    private long _flushed;

    public ChannelReader<string> Lines => _lines.Reader;

    public bool Aborted => _aborted;

    public bool Matches(T value) => matches(value);

    public long Queued => Interlocked.Read(ref _queued);

    public long Flushed => Interlocked.Read(ref _flushed);

    public void SendInitial(T value) => Queue(WatchLines.Event("ADDED", value));

    public void Send(ObjectChange<T> change)
    {
        if (change.ForWatcher(matches) is { } e)
        {
            Queue(WatchLines.Event(e.Type, e.Object));
        }
    }

    public void SendBookmark(long resourceVersion) => Queue(WatchLines.Event("BOOKMARK", WatchLines.Bookmark<T>(kind, resourceVersion)));

    public void MarkFlushed() => Interlocked.Increment(ref _flushed);

    private void Queue(string line)
    {
        if (_lines.Writer.TryWrite(line))
        {
            Interlocked.Increment(ref _queued);
        }
    }

    public void End() => _lines.Writer.TryComplete();

    public void Abort()
    {
        _aborted = true;
        _lines.Writer.TryComplete();
        abortConnection();
    }
}
