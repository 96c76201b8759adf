using MetadataProxy.Operations;

namespace MetadataProxy.Metadata;

internal static class ChangeWait
{
    /// <summary>
    /// Waits for <paramref name="change"/>, <paramref name="timeout"/> or <paramref name="stopping"/> (the server
    /// shutting down: the waiter answers with what it has, issue 9 row 5), whichever is first, and stops the others' timer.
    /// </summary>
    public static async Task ForAsync(Task change, TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken, CancellationToken stopping = default)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, stopping);
        var delay = ClockDelay.For(timeout, time, stop.Token); // not Task.Delay: callers pass what is left until a deadline
        await Task.WhenAny(change, delay);
        await stop.CancelAsync(); // otherwise a woken waiter leaves a timer running for up to an hour
        cancellationToken.ThrowIfCancellationRequested();
    }
}
