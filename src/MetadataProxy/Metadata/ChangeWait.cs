namespace MetadataProxy.Metadata;

internal static class ChangeWait
{
    /// <summary>Waits for <paramref name="change"/> or <paramref name="timeout"/>, whichever is first, and stops the other's timer.</summary>
    public static async Task ForAsync(Task change, TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var delay = Task.Delay(timeout, time, stop.Token);
        await Task.WhenAny(change, delay);
        await stop.CancelAsync(); // otherwise a woken waiter leaves a timer running for up to an hour
        cancellationToken.ThrowIfCancellationRequested();
    }
}
