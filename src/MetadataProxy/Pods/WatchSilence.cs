namespace MetadataProxy.Pods;

/// <summary>
/// The watch's liveness check: a token that is cancelled when nothing (event or bookmark) has been heard for
/// <c>limit</c> of <see cref="TimeProvider"/> time. A stream that stays open but silent would otherwise freeze the
/// index while it still claims to be current, and the IP-reuse guarantees rest on a live watch.
/// </summary>
internal sealed class WatchSilence(TimeSpan limit, TimeProvider time) : IDisposable
{
    private readonly CancellationTokenSource _silent = new(limit, time);

    public TimeSpan Limit => limit;

    public CancellationToken Token => _silent.Token;

    public bool IsSilent => _silent.IsCancellationRequested;

    /// <summary>Something arrived: the silence is measured from now.</summary>
    public void Heard()
    {
        if (!_silent.IsCancellationRequested)
            _silent.CancelAfter(limit);
    }

    public void Dispose() => _silent.Dispose();
}
