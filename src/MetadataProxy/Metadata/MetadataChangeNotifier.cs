namespace MetadataProxy.Metadata;

/// <summary>
/// Tells <c>wait_for_change</c> requests that something they render from may have changed (config reload,
/// a ServiceAccount annotation, a Node label). Waiters re-render and compare ETags, so a spurious signal is harmless.
/// </summary>
internal sealed class MetadataChangeNotifier
{
    private TaskCompletionSource _next = NewSource();

    /// <summary>Completes at the next change after it was read.</summary>
    public Task NextChange => Volatile.Read(ref _next).Task;

    public void NotifyChanged() => Interlocked.Exchange(ref _next, NewSource()).TrySetResult();

    private static TaskCompletionSource NewSource() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
