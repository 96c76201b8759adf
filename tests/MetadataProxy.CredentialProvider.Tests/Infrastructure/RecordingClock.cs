using System.Collections.Concurrent;
using Microsoft.Extensions.Time.Testing;

namespace MetadataProxy.CredentialProvider.Tests.Infrastructure;

/// <summary>
/// A fake clock that records the due time of every timer started on it, as the server's functional tests have one:
/// a test sees which deadlines the plugin set, to the millisecond, before it advances the clock (a cancellation's
/// effect arrives asynchronously, so "not yet done" alone cannot tell 8 s from 8 s − 1 ms).
/// </summary>
internal sealed class RecordingClock : FakeTimeProvider
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
