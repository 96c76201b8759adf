namespace MetadataProxy.FunctionalTests.PullSecrets;

/// <summary>
/// Two watch answers of a real API server to the ServiceAccount watch, on the lab's fake clock: a watch request
/// answered HTTP 410 (not an ERROR event on a 200 stream) relists at once and counts as <c>expired</c>, not
/// <c>failed</c>, while a 410 again on the watch after that relist, nothing delivered in between, waits the back-off
/// (growing) first; a watch the server ends at once with nothing delivered backs off (<c>closed_early</c>) instead of
/// spinning, while a watch that delivered something, or lasted, resumes at once (<c>closed</c>).
/// </summary>
public sealed class AccountWatchEndTests
{
    private const string Ns = "apps";
    private const string Ends = "metadata_proxy_pull_secret_account_watch_ends_total";
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(5); // PullSecrets:RetryDelay's default
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(1);

    private static string Ended(string reason) => $"{Ends}{{reason=\"{reason}\"}}";

    [Fact]
    public async Task WatchRequestAnswered410_RelistsAtOnce_CountedAsExpiredNotFailed()
    {
        await using var lab = await PullSecretsLab.StartAsync();
        lab.AddAccount(Ns, "first");
        var replica = await lab.StartReplicaAsync("replica-a");
        await lab.SettleAsync();
        await PullSecretsLab.WaitUntilAsync(() => lab.Kube.OpenWatches == 1); // open before the clock moves, as below
        await lab.AdvanceAsync(TimeSpan.FromSeconds(2)); // the watch has lasted: its end is a normal one
        var before = lab.Time.GetUtcNow();

        lab.Kube.AnswerWatchesGone(1);
        lab.Kube.EndWatches();

        // The resumed watch is refused with 410: a relist and a watch from it, the clock standing still.
        await PullSecretsLab.WaitForMetricAsync(replica, Ended("expired"), v => v == 1);
        await PullSecretsLab.WaitUntilAsync(() => lab.Kube.ServiceAccountLists == 2 && lab.Kube.OpenWatches == 1);
        Assert.Equal(1, lab.Kube.WatchesAnsweredGone);
        Assert.Equal(3, lab.Kube.ServiceAccountWatches);
        Assert.Equal(0, await PullSecretsLab.MetricAsync(replica, Ended("failed")));
        Assert.Equal(1, await PullSecretsLab.MetricAsync(replica, Ended("closed")));
        Assert.Equal(before, lab.Time.GetUtcNow());
    }

    [Fact]
    public async Task WatchAnswered410AgainAfterItsRelist_WaitsTheBackOff_GrowingUntilAnEventIsDelivered()
    {
        await using var lab = await PullSecretsLab.StartAsync();
        lab.AddAccount(Ns, "plain", optIn: null); // not opted in: the controller writes nothing a later watch would replay
        var replica = await lab.StartReplicaAsync("replica-a");
        await lab.SettleAsync();
        await PullSecretsLab.WaitUntilAsync(() => lab.Kube.OpenWatches == 1); // open before the clock moves, as below
        await lab.AdvanceAsync(TimeSpan.FromSeconds(2)); // the watch has lasted: its end is a normal one

        lab.Kube.AnswerWatchesGone(3);
        lab.Kube.EndWatches();

        // The first 410 relists at once; the watch from that list is refused too: the next relist waits the back-off.
        await PullSecretsLab.WaitForMetricAsync(replica, Ended("expired"), v => v == 2);
        await lab.SettleAsync();
        Assert.Equal(2, lab.Kube.ServiceAccountLists);
        var wait = replica.Controller.Timer.WakesAt!.Value - lab.Time.GetUtcNow();
        Assert.InRange(wait, RetryDelay / 2, RetryDelay); // the first step (jitter in its upper half)
        await lab.AdvanceAsync(wait - Tick);
        Assert.Equal(2, lab.Kube.ServiceAccountLists);
        await lab.AdvanceAsync(Tick);

        await PullSecretsLab.WaitForMetricAsync(replica, Ended("expired"), v => v == 3);
        await lab.SettleAsync();
        Assert.Equal(3, lab.Kube.ServiceAccountLists);
        wait = replica.Controller.Timer.WakesAt!.Value - lab.Time.GetUtcNow();
        Assert.InRange(wait, RetryDelay, 2 * RetryDelay); // refused again: it grows
        await lab.AdvanceAsync(wait);
        await PullSecretsLab.WaitUntilAsync(() => lab.Kube.ServiceAccountLists == 4 && lab.Kube.OpenWatches == 1);

        // A delivered event ends the run: the next 410 relists at once again and the one after waits the first step.
        lab.AddAccount(Ns, "later", optIn: null);
        await lab.SettleAsync();
        await PullSecretsLab.WaitUntilAsync(() => lab.Kube.OpenWatches == 1);
        lab.Kube.AnswerWatchesGone(2);
        lab.Kube.EndWatches();
        await PullSecretsLab.WaitForMetricAsync(replica, Ended("expired"), v => v == 5);
        await lab.SettleAsync();
        Assert.Equal(5, lab.Kube.ServiceAccountLists);
        Assert.InRange(replica.Controller.Timer.WakesAt!.Value - lab.Time.GetUtcNow(), RetryDelay / 2, RetryDelay);
        Assert.All(lab.Kube.ServiceAccountListVersions, v => Assert.Equal("", v)); // every list a consistent read
        Assert.Equal(0, await PullSecretsLab.MetricAsync(replica, Ended("failed")));
    }

    [Fact]
    public async Task WatchEndedAtOnceWithNothingDelivered_IsRetriedAfterTheBackOff_NotAtOnce()
    {
        await using var lab = await PullSecretsLab.StartAsync();
        lab.AddAccount(Ns, "plain", optIn: null); // not opted in: the controller writes nothing a later watch would replay
        lab.Kube.EndWatchesAtOnce();
        var replica = await lab.StartReplicaAsync("replica-a");
        await PullSecretsLab.WaitForMetricAsync(replica, Ended("closed_early"), v => v == 1);
        await lab.SettleAsync();

        var wait = replica.Controller.Timer.WakesAt!.Value - lab.Time.GetUtcNow();
        Assert.InRange(wait, RetryDelay / 2, RetryDelay); // the first back-off step (jitter in its upper half)
        Assert.Equal(1, lab.Kube.ServiceAccountWatches);
        await lab.AdvanceAsync(wait - Tick);
        Assert.Equal(1, lab.Kube.ServiceAccountWatches); // the second watch waits for the back-off
        await lab.AdvanceAsync(Tick);
        await PullSecretsLab.WaitForMetricAsync(replica, Ended("closed_early"), v => v == 2);
        await lab.SettleAsync();

        Assert.Equal(2, lab.Kube.ServiceAccountWatches);
        Assert.InRange(replica.Controller.Timer.WakesAt!.Value - lab.Time.GetUtcNow(), RetryDelay, 2 * RetryDelay); // it grows
        Assert.Equal(1, lab.Kube.ServiceAccountLists); // resumed from the resourceVersion, never relisted
        Assert.Equal(0, await PullSecretsLab.MetricAsync(replica, Ended("closed")));
        Assert.Equal(0, await PullSecretsLab.MetricAsync(replica, Ended("failed")));
    }

    [Fact]
    public async Task WatchThatDeliveredAnEventThenEnded_ResumesAtOnce()
    {
        await using var lab = await PullSecretsLab.StartAsync();
        lab.AddAccount(Ns, "first");
        lab.Kube.EndWatchesAtOnce();
        var replica = await lab.StartReplicaAsync("replica-a");
        await PullSecretsLab.WaitForMetricAsync(replica, Ended("closed_early"), v => v == 1);
        await lab.SettleAsync();
        var rewatch = replica.Controller.Timer.WakesAt!.Value;

        lab.AddAccount(Ns, "later"); // no watch is open: the next one replays it, then the server ends that one too
        await lab.AdvanceAsync(rewatch - lab.Time.GetUtcNow());

        // The second watch delivered the account and ended: the third followed with no wait; only the third, empty,
        // backed off, from the first step again (the event reset the back-off).
        await PullSecretsLab.WaitForMetricAsync(replica, Ended("closed_early"), v => v == 2);
        await lab.SettleAsync();
        Assert.Equal(3, lab.Kube.ServiceAccountWatches);
        Assert.Equal(1, await PullSecretsLab.MetricAsync(replica, Ended("closed")));
        Assert.Equal(rewatch, lab.Time.GetUtcNow());
        Assert.InRange(replica.Controller.Timer.WakesAt!.Value - lab.Time.GetUtcNow(), RetryDelay / 2, RetryDelay);
        await PullSecretsLab.WaitUntilAsync(() => lab.SecretOf(Ns, "later") is not null);
    }

    [Fact]
    public async Task WatchThatLastedThenEndedWithNothingDelivered_ResumesAtOnce()
    {
        await using var lab = await PullSecretsLab.StartAsync();
        lab.Kube.BookmarkInterval = TimeSpan.FromHours(1); // a quiet cluster and no bookmark: the watch just lasts
        lab.AddAccount(Ns, "plain", optIn: null); // not opted in: the controller's own writes send the watch nothing
        var replica = await lab.StartReplicaAsync("replica-a");
        await lab.SettleAsync();
        // The watch must be open at the server before the clock moves: started after it, it would not have lasted the
        // second (closed_early), and EndWatches ends only open watches (CI, under load: the metric never came).
        await PullSecretsLab.WaitUntilAsync(() => lab.Kube.OpenWatches == 1);
        await lab.AdvanceAsync(TimeSpan.FromSeconds(1));
        var before = lab.Time.GetUtcNow();

        lab.Kube.EndWatches(); // as its timeoutSeconds would

        await PullSecretsLab.WaitForMetricAsync(replica, Ended("closed"), v => v == 1);
        await PullSecretsLab.WaitUntilAsync(() => lab.Kube.ServiceAccountWatches == 2 && lab.Kube.OpenWatches == 1);
        Assert.Equal(0, await PullSecretsLab.MetricAsync(replica, Ended("closed_early")));
        Assert.Equal(1, lab.Kube.ServiceAccountLists);
        Assert.Equal(before, lab.Time.GetUtcNow());
    }
}
