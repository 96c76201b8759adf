using System.Threading.Channels;

namespace MetadataProxy.TestServers.Kubernetes;

/// <summary>An open watch as the stream that serves it and the store's bookkeeping see it, whatever its kind.</summary>
internal interface IObjectWatch
{
    ChannelReader<string> Lines { get; }

    bool Aborted { get; }

    /// <summary>Lines queued so far; with <see cref="Flushed"/>, "has the client been sent everything up to now".</summary>
    long Queued { get; }

    /// <summary>Lines written and flushed to the connection so far.</summary>
    long Flushed { get; }

    void SendBookmark(long resourceVersion);

    void MarkFlushed();

    /// <summary>Ends the stream cleanly once the queued lines are sent (timeoutSeconds).</summary>
    void End();

    /// <summary>Cuts the connection mid-stream, without the terminating chunk.</summary>
    void Abort();
}
