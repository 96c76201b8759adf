namespace MetadataProxy.FunctionalTests.PullSecrets;

/// <summary>Issue 13: Warning Events are written off the controller's loop, so a slow Events endpoint delays no Secret.</summary>
public sealed class EventQueueTests
{
    private const string Ns = "apps";

    [Fact]
    public async Task SlowEventsEndpoint_DoesNotDelayASecretRefresh()
    {
        await using var lab = await PullSecretsLab.StartAsync();
        lab.Kube.StallEvents();
        lab.AddAccount(Ns, "a-typo", optIn: "europe-docker.pkg.dev/path"); // refused first: its Event hangs
        lab.AddAccount(Ns, "plain");
        var replica = await lab.StartReplicaAsync("replica-a");
        await lab.SettleAsync(); // the loop sleeps again although the Event has not been answered

        Assert.NotNull(PullSecretsLab.TokenIn(lab.SecretOf(Ns, "plain")));
        Assert.Empty(lab.Kube.EventsCreated);
        var updates = lab.Kube.SecretUpdates;
        await lab.AdvanceAsync(TimeSpan.FromMinutes(31)); // a refresh, with the Event still hanging (its 5 s deadline passed: it was abandoned)
        Assert.True(lab.Kube.SecretUpdates > updates);

        lab.Kube.ResumeEvents();
        Assert.Equal(0, await PullSecretsLab.MetricAsync(replica, "metadata_proxy_kubernetes_events_dropped_total"));
    }
}
