namespace MetadataProxy.Pods;

/// <summary>The random source of the watches' reconnect back-off (and the pull-secret retries), injected so tests can fix it.</summary>
internal sealed class WatchJitter(Func<double> next)
{
    /// <summary>A value in [0, 1).</summary>
    public double Next() => next();
}
