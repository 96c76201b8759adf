namespace MetadataProxy.Kubernetes;

/// <summary>The random source of the startup taint remover's retry back-off, injected so tests can fix it.</summary>
internal sealed class StartupTaintJitter(Func<double> next)
{
    /// <summary>A value in [0, 1).</summary>
    public double Next() => next();
}
