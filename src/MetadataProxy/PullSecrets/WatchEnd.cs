namespace MetadataProxy.PullSecrets;

/// <summary>How a ServiceAccount watch ended: closed by the server (resume from the last resourceVersion), closed at
/// once with nothing delivered (<see cref="Kubernetes.WatchAttempt"/>: back off, then resume), expired (410, as an ERROR
/// event or as the answer to the watch request: relist), or failed (back off, then resume).</summary>
internal abstract record WatchEnd
{
    public static readonly WatchEnd Closed = new ClosedEnd();

    public static readonly WatchEnd ClosedEarly = new ClosedEarlyEnd();

    public static readonly WatchEnd Expired = new ExpiredEnd();

    public static WatchEnd Failed(Exception error) => new FailedEnd(error);

    internal sealed record ClosedEnd : WatchEnd;

    internal sealed record ClosedEarlyEnd : WatchEnd;

    internal sealed record ExpiredEnd : WatchEnd;

    internal sealed record FailedEnd(Exception Error) : WatchEnd;
}
