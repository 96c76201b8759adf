namespace MetadataProxy.Kubernetes;

/// <summary>
/// The random source of the API-server back-offs (<see cref="Backoff"/>: the pod watch's reconnect, the startup taint
/// remover's retry, a failed ServiceAccount read), injected so tests can fix it.
/// </summary>
internal sealed class BackoffJitter(Func<double> next)
{
    /// <summary>A value in [0, 1).</summary>
    public double Next() => next();
}
