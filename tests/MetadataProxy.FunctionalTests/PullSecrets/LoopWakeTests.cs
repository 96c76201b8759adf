namespace MetadataProxy.FunctionalTests.PullSecrets;

/// <summary>
/// The controller's loop sleeps until its next due time, which need not fall on a whole millisecond of the time it
/// went to sleep (a back-off with jitter, a resync counted from an earlier pass). Task.Delay on a TimeProvider arms
/// whole milliseconds and drops the rest: the loop woke up to a millisecond early, found nothing due and slept again
/// for less than a millisecond, which Task.Delay completes at once. On the lab's clock, which stands still while the
/// loop runs, it never waited again: a test host spun at 100 % CPU inside FakeTimeProvider.Advance.
/// </summary>
public sealed class LoopWakeTests
{
    private const string Ns = "apps";

    [Fact]
    public async Task DueTimeOffTheMillisecond_ClockMovedJustShortOfIt_LoopStaysAsleep_ThenWakesOnTime()
    {
        await using var lab = await PullSecretsLab.StartAsync();
        lab.Settings["PullSecrets:ResyncInterval"] = "00:01:00";
        lab.Kube.BookmarkInterval = TimeSpan.FromHours(1); // no bookmark: the resync is the loop's only due time
        lab.AddAccount(Ns, "plain", optIn: null); // not opted in: nothing is written, nothing else falls due
        var replica = await lab.StartReplicaAsync("replica-a");
        await lab.SettleAsync();
        await PullSecretsLab.WaitUntilAsync(() => lab.Kube.OpenWatches == 1);
        var resyncAt = lab.Time.GetUtcNow() + TimeSpan.FromMinutes(1);

        // An event 0.4 ms later: the loop goes back to sleep for 59 999.6 ms, until the resync.
        await lab.AdvanceAsync(TimeSpan.FromTicks(4_000));
        var timer = replica.Controller.Timer;
        var sleeps = timer.Sleeps;
        lab.AddAccount(Ns, "later", optIn: null);
        await PullSecretsLab.WaitUntilAsync(() => timer.Sleeps > sleeps && timer.WakesAt is not null);
        Assert.InRange(timer.WakesAt!.Value, resyncAt, resyncAt + TimeSpan.FromMilliseconds(1));
        await lab.AdvanceAsync(resyncAt - TimeSpan.FromSeconds(1) - lab.Time.GetUtcNow()); // stopping at every renewal of the Lease

        // Half a millisecond short of the resync. Moved off the test's thread: a loop that spins inside the clock's
        // Advance ends this test by the timeout (and then with the lab's term) instead of hanging it.
        sleeps = timer.Sleeps;
        var advancing = Task.Run(() => lab.AdvanceAsync(resyncAt - TimeSpan.FromTicks(5_000) - lab.Time.GetUtcNow()), TestContext.Current.CancellationToken);
        var first = await Task.WhenAny(advancing, Task.Delay(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken));
        Assert.True(first == advancing, "the clock's advance did not return: the controller's loop went round without waiting");
        await advancing;
        Assert.Equal(sleeps, timer.Sleeps); // not woken before its time
        Assert.NotNull(timer.WakesAt);

        await lab.AdvanceAsync(timer.WakesAt!.Value - lab.Time.GetUtcNow());

        Assert.Equal(sleeps + 1, timer.Sleeps); // one pass, the resync, then a real sleep to the next one
        Assert.Equal(lab.Time.GetUtcNow() + TimeSpan.FromMinutes(1), timer.WakesAt);
    }
}
