namespace MetadataProxy.TestServers.Kubernetes;

/// <summary>The cluster-wide resourceVersion (etcd's revision): every write of any kind takes the next one.</summary>
internal sealed class ResourceVersionCounter
{
    // Never "0": a list must not answer with the resourceVersion that means "any" to a watch.
    private long _current = 1;

    public long Current => Interlocked.Read(ref _current);

    public long Next() => Interlocked.Increment(ref _current);
}
