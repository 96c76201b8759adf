using MetadataProxy.PullSecrets;

namespace MetadataProxy.FunctionalTests.PullSecrets;

/// <summary>
/// Issue 13: the controller lists the ServiceAccounts in chunks and then watches them, so an opt-in, an opt-out or a
/// deletion is acted on when its event arrives: these tests never move the clock to a resync. A dropped watch resumes
/// from its resourceVersion, a 410 relists, a failing list backs off.
/// </summary>
public sealed class AccountWatchTests
{
    private const string Ns = "apps";
    private const string Current = "metadata_proxy_pull_secrets{state=\"current\"}";

    [Fact]
    public async Task OptIn_AfterStart_IsActedOnAtOnce_WithoutTheClockMoving()
    {
        await using var lab = await PullSecretsLab.StartAsync();
        lab.AddAccount(Ns, "other", optIn: null);
        await lab.StartReplicaAsync("replica-a");
        await lab.SettleAsync();
        var started = lab.Time.GetUtcNow();

        lab.Kube.UpdateServiceAccount(Ns, "other", sa => sa.Metadata.Annotations[PullSecretOptIn.AnnotationKey] = "true");
        lab.AddAccount(Ns, "later");
        await PullSecretsLab.WaitUntilAsync(() => lab.Kube.GetServiceAccount(Ns, "later")!.ImagePullSecrets is { Count: 1 }
                                                  && lab.Kube.GetServiceAccount(Ns, "other")!.ImagePullSecrets is { Count: 1 });

        Assert.NotNull(PullSecretsLab.TokenIn(lab.SecretOf(Ns, "later")));
        Assert.NotNull(PullSecretsLab.TokenIn(lab.SecretOf(Ns, "other")));
        Assert.Equal(started, lab.Time.GetUtcNow());
        Assert.Equal(1, lab.Kube.ServiceAccountLists); // the events came through the watch, not a relist
    }

    [Fact]
    public async Task OptOut_IsActedOnAtOnce_AndADeletedAccountIsForgotten()
    {
        await using var lab = await PullSecretsLab.StartAsync();
        lab.AddAccount(Ns, "leaving");
        lab.AddAccount(Ns, "deleted");
        var replica = await lab.StartReplicaAsync("replica-a");
        await lab.SettleAsync();
        Assert.Equal(2, await PullSecretsLab.MetricAsync(replica, Current));
        var started = lab.Time.GetUtcNow();

        lab.Kube.UpdateServiceAccount(Ns, "leaving", sa => sa.Metadata.Annotations.Remove(PullSecretOptIn.AnnotationKey));
        await PullSecretsLab.WaitUntilAsync(() => lab.SecretOf(Ns, "leaving") is null && lab.Kube.GetServiceAccount(Ns, "leaving")!.ImagePullSecrets is null or { Count: 0 });
        lab.Kube.DeleteServiceAccount(Ns, "deleted");
        await PullSecretsLab.WaitForMetricAsync(replica, Current, v => v == 0);

        Assert.Equal(-1, await PullSecretsLab.MetricAsync(replica, "metadata_proxy_pull_secret_soonest_expiry_seconds"));
        Assert.Equal(started, lab.Time.GetUtcNow());
        Assert.Equal(1, lab.Kube.ServiceAccountLists);
    }

    [Fact]
    public async Task List_InChunks_SeesEveryAccount()
    {
        await using var lab = await PullSecretsLab.StartAsync();
        lab.Settings["PullSecrets:ListPageSize"] = "2";
        string[] namespaces = ["a", "b", "c"];
        foreach (var ns in namespaces)
        {
            lab.AddAccount(ns, "one");
            lab.AddAccount(ns, "two");
        }

        lab.AddAccount("d", "three");
        await lab.StartReplicaAsync("replica-a");
        await lab.SettleAsync();

        Assert.Equal(4, lab.Kube.ServiceAccountLists); // 7 accounts, 2 a page
        Assert.All(namespaces, ns => Assert.NotNull(PullSecretsLab.TokenIn(lab.SecretOf(ns, "two"))));
        Assert.NotNull(PullSecretsLab.TokenIn(lab.SecretOf("d", "three")));
    }

    [Fact]
    public async Task DroppedWatch_ResumesFromItsResourceVersion_WithoutARelist()
    {
        await using var lab = await PullSecretsLab.StartAsync();
        lab.AddAccount(Ns, "first");
        var replica = await lab.StartReplicaAsync("replica-a");
        await lab.SettleAsync();
        Assert.Equal(1, lab.Kube.ServiceAccountWatches);

        lab.Kube.DropWatches();
        await PullSecretsLab.WaitUntilAsync(() => lab.Kube.OpenWatches == 0);
        lab.AddAccount(Ns, "while-dropped"); // no watch open: only a resumed watch can replay it
        await WaitForWatchEndAsync(replica);
        await lab.AdvanceAsync(TimeSpan.FromSeconds(5)); // the first back-off step is at most RetryDelay

        await PullSecretsLab.WaitUntilAsync(() => lab.SecretOf(Ns, "while-dropped") is not null);
        Assert.Equal(1, lab.Kube.ServiceAccountLists);
        Assert.Equal(2, lab.Kube.ServiceAccountWatches);
    }

    [Fact]
    public async Task SilentWatch_IsResumedOnANewConnection_AfterTheSilenceLimit_WithoutARelist()
    {
        await using var lab = await PullSecretsLab.StartAsync();
        lab.AddAccount(Ns, "first");
        var replica = await lab.StartReplicaAsync("replica-a");
        await lab.SettleAsync();
        Assert.Equal(1, lab.Kube.ServiceAccountWatches);

        lab.Kube.StallWatches(); // the connection stays open and delivers nothing, bookmarks included
        try
        {
            lab.AddAccount(Ns, "while-silent");
            await lab.AdvanceAsync(AccountFeed.SilenceLimit / 2);
            Assert.Equal(1, lab.Kube.ServiceAccountWatches); // not before the limit
            Assert.Null(lab.SecretOf(Ns, "while-silent"));

            await lab.AdvanceAsync(AccountFeed.SilenceLimit / 2 + TimeSpan.FromSeconds(15));
            await PullSecretsLab.WaitUntilAsync(() => lab.Kube.ServiceAccountWatches == 2);
        }
        finally
        {
            lab.Kube.ResumeWatches(); // a stalled stream would otherwise hold the lab's shutdown
        }

        await PullSecretsLab.WaitUntilAsync(() => lab.SecretOf(Ns, "while-silent") is not null);
        Assert.Equal(1, lab.Kube.ServiceAccountLists);
        Assert.Contains("metadata_proxy_pull_secret_account_watch_ends_total{reason=\"silent\"} 1",
            await PullSecretsLab.MetricsTextAsync(replica), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExpiredResourceVersion_Relists()
    {
        await using var lab = await PullSecretsLab.StartAsync();
        lab.AddAccount(Ns, "first");
        var replica = await lab.StartReplicaAsync("replica-a");
        await lab.SettleAsync();

        lab.Kube.ExpireResourceVersions(); // first: no resumed watch may slip in before the compaction
        lab.Kube.DropWatches();
        lab.AddAccount(Ns, "after-compaction");
        await WaitForWatchEndAsync(replica);
        await lab.AdvanceAsync(TimeSpan.FromSeconds(5));

        await PullSecretsLab.WaitForMetricAsync(replica, "metadata_proxy_pull_secret_account_watch_ends_total{reason=\"expired\"}", v => v == 1);
        await PullSecretsLab.WaitUntilAsync(() => lab.SecretOf(Ns, "after-compaction") is not null);
        Assert.Equal(2, lab.Kube.ServiceAccountLists);
    }

    [Fact]
    public async Task FailingList_BacksOff_ThenRecovers()
    {
        await using var lab = await PullSecretsLab.StartAsync();
        lab.AddAccount(Ns, "plain");
        lab.Kube.FailServiceAccountLists(2);
        var replica = await lab.StartReplicaAsync("replica-a");
        await lab.SettleAsync();
        Assert.Equal(1, lab.Kube.ServiceAccountLists);
        Assert.Null(lab.SecretOf(Ns, "plain"));

        // RetryDelay 5 s with jitter in the upper half: the retries come after 2.5–5 s, then 5–10 s; never at once.
        await lab.AdvanceAsync(TimeSpan.FromSeconds(2));
        Assert.Equal(1, lab.Kube.ServiceAccountLists);
        await lab.AdvanceAsync(TimeSpan.FromSeconds(13));

        Assert.Equal(3, lab.Kube.ServiceAccountLists);
        Assert.NotNull(PullSecretsLab.TokenIn(lab.SecretOf(Ns, "plain")));
        Assert.Equal(2, await PullSecretsLab.MetricAsync(replica, "metadata_proxy_pull_secret_account_watch_ends_total{reason=\"list_failed\"}"));
    }

    /// <summary>The controller has seen its watch end (a reset connection fails; a 410 expires; a clean end closes).</summary>
    private static async Task WaitForWatchEndAsync(PullSecretsLab.Replica replica)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            var ends = 0.0;
            foreach (var reason in new[] { "failed", "closed", "expired" })
                ends += await PullSecretsLab.MetricAsync(replica, $"metadata_proxy_pull_secret_account_watch_ends_total{{reason=\"{reason}\"}}");
            if (ends >= 1)
                return;
            Assert.True(DateTime.UtcNow < deadline, "the controller did not see its watch end in time");
            await Task.Delay(5, TestContext.Current.CancellationToken);
        }
    }
}
