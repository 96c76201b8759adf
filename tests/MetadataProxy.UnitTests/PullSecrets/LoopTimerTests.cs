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
}
