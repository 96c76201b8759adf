using MetadataProxy.Metadata;
using MetadataProxy.Operations;
using Microsoft.Extensions.Time.Testing;

namespace MetadataProxy.UnitTests.Operations;

/// <summary>
/// A wait on the injected clock ends at its time, never before: Task.Delay alone arms whole milliseconds, so the
/// deadline loops (the caller lookup's, the registry's pod wait, wait_for_change) woke short of their deadline and went
/// round without waiting.
/// </summary>
public sealed class ClockDelayTests
{
    private static readonly Task Never = new TaskCompletionSource().Task;

    [Fact]
    public void For_WaitNotOnAWholeMillisecond_DoesNotEndBeforeItsTime()
    {
        var time = new FakeTimeProvider();

        var delay = ClockDelay.For(TimeSpan.FromMilliseconds(2.5), time, TestContext.Current.CancellationToken);
        time.Advance(TimeSpan.FromMilliseconds(2.4));
        Assert.False(delay.IsCompleted, "ended before its time (Task.Delay alone fires at 2 ms)");
        time.Advance(TimeSpan.FromMilliseconds(0.6));

        Assert.True(delay.IsCompletedSuccessfully);
    }

    [Fact]
    public void For_WaitUnderAMillisecond_StillWaitsOnTheClock()
    {
        var time = new FakeTimeProvider();

        var delay = ClockDelay.For(TimeSpan.FromTicks(5_000), time, TestContext.Current.CancellationToken);
        Assert.False(delay.IsCompleted, "ended at once (Task.Delay alone completes anything under 1 ms)");
        time.Advance(TimeSpan.FromMilliseconds(1));

        Assert.True(delay.IsCompletedSuccessfully);
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(-10_000, 0)]
    [InlineData(1, 10_000)]
    [InlineData(10_000, 10_000)]
    [InlineData(10_001, 20_000)]
    public void RoundedUp_Ticks_AreWholeMillisecondsNeverLess(long ticks, long expected) =>
        Assert.Equal(TimeSpan.FromTicks(expected), ClockDelay.RoundedUp(TimeSpan.FromTicks(ticks)));

    [Fact]
    public async Task ChangeWait_WhatIsLeftUntilADeadline_EndsAtTheDeadlineRoundedUpNeverBefore()
    {
        var time = new FakeTimeProvider();
        var deadline = time.GetUtcNow() + TimeSpan.FromMilliseconds(2.5);

        var waiting = ChangeWait.ForAsync(Never, deadline - time.GetUtcNow(), time, TestContext.Current.CancellationToken);
        time.Advance(TimeSpan.FromMilliseconds(2.4));
        Assert.False(waiting.IsCompleted, "the wait ended before the deadline");
        time.Advance(TimeSpan.FromMilliseconds(0.1));
        Assert.False(waiting.IsCompleted, "the wait ended inside the deadline's millisecond, not at its end");
        time.Advance(TimeSpan.FromMilliseconds(0.5));

        // Ended by the clock at 3 ms (its continuation may run on another thread): the real-time bound only keeps a
        // wait that never ends from hanging the run.
        await waiting.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
    }
}
