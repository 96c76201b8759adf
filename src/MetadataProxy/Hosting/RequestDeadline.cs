namespace MetadataProxy.Hosting;

/// <summary>
/// A budget on the injected clock that also ends when its parent token does (the caller went away): one
/// source, one timer and one registration, what a linked source with <c>CancelAfter</c> costs, but a test's
/// <see cref="TimeProvider"/> decides when it runs out instead of the real timer.
/// </summary>
internal sealed class RequestDeadline : CancellationTokenSource
{
    private readonly CancellationTokenRegistration _parent;

    public RequestDeadline(TimeSpan budget, TimeProvider time, CancellationToken parent)
        : base(budget, time)
    {
        _parent = parent.UnsafeRegister(static state => ((RequestDeadline)state!).Cancel(), this);
    }

    /// <summary>True when the budget ran out, not the parent: the one case for a "took too long" answer.</summary>
    public bool Expired(CancellationToken parent) => IsCancellationRequested && !parent.IsCancellationRequested;

    protected override void Dispose(bool disposing)
    {
        if (disposing)
            _parent.Dispose(); // waits for a cancellation in flight, so nothing cancels a disposed source
        base.Dispose(disposing);
    }
}
