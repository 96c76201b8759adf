namespace MetadataProxy.TestServers.Kubernetes;

/// <summary>
/// How the next watch requests of any kind are answered, other than with a stream that lasts: refused with HTTP 410
/// and an Expired Status (some API-server paths refuse a too-old resourceVersion on the request itself rather than
/// with an ERROR event on a 200 stream), or ended cleanly right after what they replay (a proxy or server that
/// accepts a watch and closes it at once).
/// </summary>
internal sealed class WatchAnswers
{
    private int _gone;
    private int _answeredGone;
    private volatile bool _endAtOnce;

    /// <summary>Watch requests answered 410 so far.</summary>
    public int AnsweredGone => Volatile.Read(ref _answeredGone);

    public bool EndAtOnce
    {
        get => _endAtOnce;
        set => _endAtOnce = value;
    }

    public void AnswerGone(int watches) => Volatile.Write(ref _gone, watches);

    /// <summary>True when this watch request is one of those to refuse with 410.</summary>
    public bool TakeGone()
    {
        while (true)
        {
            var left = Volatile.Read(ref _gone);
            if (left <= 0)
                return false;
            if (Interlocked.CompareExchange(ref _gone, left - 1, left) == left)
            {
                Interlocked.Increment(ref _answeredGone);
                return true;
            }
        }
    }
}
