using MetadataProxy.PullSecrets;
using Microsoft.Extensions.Time.Testing;

namespace MetadataProxy.UnitTests.PullSecrets;

public sealed class LoopTimerTests
{
    [Fact]
    public async Task SleepAsync_WokenEarly_ReturnsWithoutTheClockMoving_AndDisarmsItsTimer()
    {
        var time = new FakeTimeProvider();
        var timer = new LoopTimer();
        var wake = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var sleeping = timer.SleepAsync(TimeSpan.FromMinutes(10), time, wake.Task, TestContext.Current.CancellationToken);
        Assert.Equal(time.GetUtcNow().AddMinutes(10), timer.WakesAt);
        wake.SetResult();
        await sleeping;

        Assert.Null(timer.WakesAt);
        Assert.Equal(1, timer.Sleeps);
    }

    [Fact]
    public async Task SleepAsync_WakeAlreadyDone_DoesNotSleep()
    {
        var timer = new LoopTimer();

        await timer.SleepAsync(TimeSpan.FromMinutes(10), new FakeTimeProvider(), Task.CompletedTask, TestContext.Current.CancellationToken);

        Assert.Equal(0, timer.Sleeps);
    }

    [Fact]
    public async Task SleepAsync_NotWoken_EndsWhenTheClockReachesTheWait()
    {
        var time = new FakeTimeProvider();
        var timer = new LoopTimer();
        var never = new TaskCompletionSource();

        var sleeping = timer.SleepAsync(TimeSpan.FromMinutes(10), time, never.Task, TestContext.Current.CancellationToken);
        time.Advance(TimeSpan.FromMinutes(9));
        Assert.False(sleeping.IsCompleted);
        time.Advance(TimeSpan.FromMinutes(1));
        await sleeping;

        Assert.Null(timer.WakesAt);
    }

    /// <summary>
    /// Task.Delay on a TimeProvider counts whole milliseconds and drops the rest: a wait of 2.5 ms armed a 2 ms timer,
    /// so a loop woke half a millisecond before its due time, found it still ahead and slept again for under a
    /// millisecond, which Task.Delay completes at once. On a fake clock that stands still the loop never really
    /// waited again (a test host spun for 35 CPU-minutes inside FakeTimeProvider.Advance).
    /// </summary>
    [Fact]
    public async Task SleepAsync_WaitNotOnAWholeMillisecond_DoesNotEndBeforeItsTime()
    {
        var time = new FakeTimeProvider();
        var timer = new LoopTimer();
        var start = time.GetUtcNow();
        var never = new TaskCompletionSource();

        var sleeping = timer.SleepAsync(TimeSpan.FromTicks(25_000), time, never.Task, TestContext.Current.CancellationToken); // 2.5 ms
        time.Advance(TimeSpan.FromMilliseconds(2));

        Assert.False(sleeping.IsCompleted);
        Assert.True(timer.WakesAt >= start + TimeSpan.FromTicks(25_000));
        time.Advance(timer.WakesAt!.Value - time.GetUtcNow());
        await sleeping;
    }

    [Fact]
    public async Task SleepAsync_WaitUnderAMillisecond_StillSleepsOnTheClock()
    {
        var time = new FakeTimeProvider();
        var timer = new LoopTimer();
        var never = new TaskCompletionSource();

        var sleeping = timer.SleepAsync(TimeSpan.FromTicks(5_000), time, never.Task, TestContext.Current.CancellationToken); // 0.5 ms

        Assert.False(sleeping.IsCompleted); // a Task.Delay of 0 whole milliseconds is complete before it starts
        Assert.Equal(time.GetUtcNow() + TimeSpan.FromMilliseconds(1), timer.WakesAt);
        time.Advance(TimeSpan.FromMilliseconds(1));
        await sleeping;
    }
}
