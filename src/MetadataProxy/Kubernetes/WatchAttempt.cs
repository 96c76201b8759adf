namespace MetadataProxy.Kubernetes;

/// <summary>
/// One watch request, timed on <see cref="TimeProvider"/>: did it end too soon to be a normal end? A watch that ends
/// in under <see cref="ShortestNormal"/> without delivering anything (no event, no bookmark) was not ended by its
/// timeoutSeconds: a server or proxy accepts watches and closes them at once. client-go's reflector calls that an
/// error ("very short watch … Unexpected watch close") and backs off; resuming at once would hammer the API server.
/// </summary>
internal sealed class WatchAttempt(TimeProvider time)
{
    public static readonly TimeSpan ShortestNormal = TimeSpan.FromSeconds(1);

    private readonly long _started = time.GetTimestamp();
    private volatile bool _heard;

    /// <summary>Something (an event or a bookmark) arrived on this watch.</summary>
    public void Heard() => _heard = true;

    public TimeSpan Lasted => time.GetElapsedTime(_started);

    /// <summary>True when the stream, now ended, delivered nothing and lasted under <see cref="ShortestNormal"/>.</summary>
    public bool EndedEarly => !_heard && Lasted < ShortestNormal;

    /// <summary>
    /// True when <paramref name="error"/> is how KubernetesClient reports a watch answered 200 whose stream ended
    /// before its first line: it reads that line before it yields anything and throws <see cref="EndOfStreamException"/>
    /// (wrapped in <see cref="HttpRequestException"/>) when there is none, where a stream that ends after a line just
    /// ends. That is the end of an empty watch, not a failure of the connection (a reset is a plain IOException).
    /// </summary>
    public static bool IsEmptyEnd(Exception? error) => error switch
    {
        null => false,
        EndOfStreamException => true,
        _ => IsEmptyEnd(error.InnerException),
    };
}
