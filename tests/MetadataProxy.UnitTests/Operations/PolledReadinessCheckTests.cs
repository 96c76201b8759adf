using System.Threading.Channels;
using MetadataProxy.Operations;
using Microsoft.Extensions.Hosting.Internal;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace MetadataProxy.UnitTests.Operations;

/// <summary>
/// The loop both self-checks (the metadata listener, the datapath probe's result) share, on a fake clock: nothing is
/// checked before the host has started, a failing check is retried every second, a passing one is made again after
/// its recheck interval or never.
/// </summary>
public sealed class PolledReadinessCheckTests
{
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(1);

    [Fact]
    public async Task Failing_IsRetriedEverySecond_ThenOncePassed_IsNotCheckedAgainWithoutARecheckInterval()
    {
        var clock = new TimerClock();
        var lifetime = new ApplicationLifetime(NullLogger<ApplicationLifetime>.Instance);
        using var check = new ScriptedCheck(lifetime, clock, recheck: null, "first failure", null);
        await check.StartAsync(TestContext.Current.CancellationToken);
        Assert.Equal("not checked yet", check.NotReadyReason());
        Assert.Equal(0, check.Checks); // the listeners are not up before the host has started

        lifetime.NotifyStarted();
        await clock.NextTimerAsync();
        Assert.Equal((1, "first failure"), (check.Checks, check.NotReadyReason()));

        clock.Advance(PolledReadinessCheck.RetryInterval - Tick);
        Assert.Equal(1, check.Checks);
        clock.Advance(Tick);
        await check.ExecuteTask!.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken); // passed: done for good
        Assert.Equal((2, (string?)null), (check.Checks, check.NotReadyReason()));
    }

    [Fact]
    public async Task Passing_WithARecheckInterval_IsCheckedAgainThen_AndReportsANewFailure()
    {
        var clock = new TimerClock();
        var lifetime = new ApplicationLifetime(NullLogger<ApplicationLifetime>.Instance);
        using var check = new ScriptedCheck(lifetime, clock, recheck: TimeSpan.FromSeconds(10), null, "listener full");
        await check.StartAsync(TestContext.Current.CancellationToken);
        lifetime.NotifyStarted();
        await clock.NextTimerAsync();
        Assert.Equal((1, (string?)null), (check.Checks, check.NotReadyReason()));

        clock.Advance(TimeSpan.FromSeconds(10) - Tick);
        Assert.Equal(1, check.Checks);
        clock.Advance(Tick);
        await clock.NextTimerAsync();
        Assert.Equal((2, "listener full"), (check.Checks, check.NotReadyReason()));
        await check.StopAsync(TestContext.Current.CancellationToken);
    }

    /// <summary>Answers its script in order, the last answer from then on.</summary>
    private sealed class ScriptedCheck(ApplicationLifetime lifetime, TimeProvider time, TimeSpan? recheck, params string?[] answers)
        : PolledReadinessCheck(lifetime, time, NullLogger.Instance, "not checked yet")
    {
        private int _checks;

        public int Checks => Volatile.Read(ref _checks);

        protected override TimeSpan? RecheckInterval => recheck;

        internal override Task<string?> CheckAsync(CancellationToken cancellationToken)
        {
            var index = Interlocked.Increment(ref _checks) - 1;
            return Task.FromResult(answers[Math.Min(index, answers.Length - 1)]);
        }
    }

    /// <summary>A fake clock that tells when a timer is created on it: the check's loop is parked on its wait.</summary>
    private sealed class TimerClock : FakeTimeProvider
    {
        private readonly Channel<TimeSpan> _created = Channel.CreateUnbounded<TimeSpan>();

        public async Task NextTimerAsync()
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(10));
            await _created.Reader.ReadAsync(timeout.Token);
        }

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            var timer = base.CreateTimer(callback, state, dueTime, period);
            _created.Writer.TryWrite(dueTime);
            return timer;
        }
    }
}
