using MetadataProxy.Operations;

namespace MetadataProxy.PullSecrets;

/// <summary>
/// The one place a controller loop sleeps, on the injected clock, saying whether it sleeps and until when: a test
/// that drives a fake clock advances it only while every loop sleeps, so no timer is armed after it has passed.
/// </summary>
internal sealed class LoopTimer
{
    private long _sleeps;
    private long _wakeTicks = -1;

    /// <summary>How many sleeps have begun (the timer armed).</summary>
    public long Sleeps => Interlocked.Read(ref _sleeps);

    /// <summary>When the sleeping loop wakes; null while it works (or waits for something other than time).</summary>
    public DateTimeOffset? WakesAt => Interlocked.Read(ref _wakeTicks) is >= 0 and var ticks ? new DateTimeOffset(ticks, TimeSpan.Zero) : null;

    /// <summary>Sleeps for <paramref name="wait"/> (rounded up to a whole millisecond), or less when <paramref name="wake"/> completes first (a watch event).</summary>
    public async Task SleepAsync(TimeSpan wait, TimeProvider time, Task wake, CancellationToken cancellationToken)
    {
        if (wake.IsCompleted)
            return;
        using var early = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var sleeping = SleepAsync(wait, time, early.Token);
        if (await Task.WhenAny(sleeping, wake) != wake)
        {
            await sleeping;
            return;
        }

        await early.CancelAsync(); // woken early: the timer is disarmed, and WakesAt cleared, before the loop works
        try
        {
            await sleeping;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// Sleeps for <paramref name="wait"/> rounded up to a whole millisecond. Task.Delay on a TimeProvider arms whole
    /// milliseconds and drops the rest: a loop woke up to a millisecond before its due time, found it still ahead and
    /// slept for less than a millisecond, which Task.Delay completes at once; on a clock that stands still (a test's)
    /// it went round without ever waiting again, on the system clock it spun until the millisecond passed.
    /// </summary>
    public async Task SleepAsync(TimeSpan wait, TimeProvider time, CancellationToken cancellationToken)
    {
        var whole = ClockDelay.RoundedUp(wait);
        var wake = time.GetUtcNow() + whole;
        var sleeping = Task.Delay(whole, time, cancellationToken);
        Interlocked.Increment(ref _sleeps); // before WakesAt: a reader that sees WakesAt sees this sleep counted
        Interlocked.Exchange(ref _wakeTicks, wake.UtcTicks);
        try
        {
            await sleeping;
        }
        finally
        {
            Interlocked.Exchange(ref _wakeTicks, -1);
        }
    }
}
