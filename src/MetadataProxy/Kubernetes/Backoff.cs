namespace MetadataProxy.Kubernetes;

/// <summary>Exponential back-off with full jitter for reconnecting to the API server.</summary>
internal sealed class Backoff(TimeSpan initial, TimeSpan maximum, Func<double> random)
{
    private int _failures;

    public TimeSpan Next()
    {
        var ceiling = Math.Min(maximum.TotalMilliseconds, initial.TotalMilliseconds * Math.Pow(2, Math.Min(_failures++, 16)));
        return TimeSpan.FromMilliseconds(ceiling / 2 + (random() * ceiling / 2));
    }

    public void Reset() => _failures = 0;
}
