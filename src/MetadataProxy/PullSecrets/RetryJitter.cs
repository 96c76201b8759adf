namespace MetadataProxy.PullSecrets;

/// <summary>The random source of retry jitter, injected so tests can fix it.</summary>
internal sealed record RetryJitter(Func<double> Next)
{
    /// <summary>Exponential back-off with jitter in its upper half: the <paramref name="failures"/>th retry.</summary>
    public TimeSpan Delay(int failures, TimeSpan initial, TimeSpan maximum)
    {
        var ceiling = Math.Min(maximum.TotalMilliseconds, initial.TotalMilliseconds * Math.Pow(2, Math.Clamp(failures - 1, 0, 16)));
        return TimeSpan.FromMilliseconds((ceiling / 2) + (Next() * ceiling / 2));
    }
}
