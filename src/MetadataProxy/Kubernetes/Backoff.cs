namespace MetadataProxy.Kubernetes;

/// <summary>
/// Exponential back-off with jitter in the upper half of each step, for reconnecting to the API server and for
/// retrying a failed refresh: the one formula every retry in the server uses.
/// </summary>
internal sealed class Backoff(TimeSpan initial, TimeSpan maximum, Func<double> random)
{
    private int _failures;

    public TimeSpan Next() => Delay(++_failures, initial, maximum, random());

    /// <summary>The wait before the <paramref name="failures"/>th retry (1 for the first), <paramref name="random"/> in [0, 1).</summary>
    public static TimeSpan Delay(int failures, TimeSpan initial, TimeSpan maximum, double random)
    {
        var ceiling = Math.Min(maximum.TotalMilliseconds, initial.TotalMilliseconds * Math.Pow(2, Math.Clamp(failures - 1, 0, 16)));
        return TimeSpan.FromMilliseconds((ceiling / 2) + (random * ceiling / 2));
    }

    public void Reset() => _failures = 0;
}
