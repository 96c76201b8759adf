using System.Collections.Concurrent;
using Microsoft.Extensions.Time.Testing;

namespace MetadataProxy.FunctionalTests.Infrastructure;

/// <summary>
/// A fake clock that also records the due time of every timer created on it (a <c>Task.Delay</c>, a
/// <c>CancellationTokenSource</c> with a delay): a test sees that a component is parked on a wait, and for how long,
/// before it advances the clock; nothing is left to a real-time sleep.
/// </summary>
internal sealed class RecordingClock() : FakeTimeProvider(new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero))
{
    private readonly ConcurrentQueue<TimeSpan> _dueTimes = new();

    /// <summary>Every timer's first due time, in the order they were created.</summary>
    public IReadOnlyList<TimeSpan> DueTimes => [.. _dueTimes];

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        // Recorded once the timer is on the clock: a test that sees the due time and advances at once must find it
        // there (recorded first, an advance in between left the timer to start from the new time and never fire).
        var timer = base.CreateTimer(callback, state, dueTime, period);
        _dueTimes.Enqueue(dueTime);
        return timer;
    }
}
