namespace MetadataProxy.Pods;

/// <summary>The pod watch ended cleanly at once with nothing delivered (see <see cref="Kubernetes.WatchAttempt"/>):
/// retried as a failure, after the back-off, from the same resourceVersion.</summary>
internal sealed class WatchClosedEarlyException(TimeSpan lasted)
    : Exception($"the pod watch ended after {lasted.TotalSeconds:0.000} s with no event or bookmark (closed early)");
