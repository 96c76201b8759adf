namespace MetadataProxy.Operations;

/// <summary>
/// <c>Task.Delay</c> on a <see cref="TimeProvider"/>, never shorter than asked. Task.Delay arms whole milliseconds and
/// drops the rest: 2.5 ms arms 2 ms and anything under 1 ms completes at once. A loop that waits for "what is left
/// until a deadline" then wakes before the deadline, finds less than a millisecond left and goes round without
/// waiting: a busy loop of up to a millisecond on the system clock, an endless one on a clock that stands still
/// (a test's, whose <c>Advance</c> runs the loop inline).
/// </summary>
internal static class ClockDelay
{
    public static Task For(TimeSpan wait, TimeProvider time, CancellationToken cancellationToken) =>
        Task.Delay(RoundedUp(wait), time, cancellationToken);

    /// <summary><paramref name="wait"/> rounded up to a whole millisecond (zero or less: zero).</summary>
    public static TimeSpan RoundedUp(TimeSpan wait) =>
        wait <= TimeSpan.Zero ? TimeSpan.Zero : TimeSpan.FromMilliseconds((wait.Ticks + TimeSpan.TicksPerMillisecond - 1) / TimeSpan.TicksPerMillisecond);
}
