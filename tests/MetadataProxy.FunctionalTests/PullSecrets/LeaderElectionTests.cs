using k8s.Models;
using MetadataProxy.PullSecrets;

namespace MetadataProxy.FunctionalTests.PullSecrets;

/// <summary>Issue 13: two replicas on one Lease — exactly one writes; the other takes over when it stops.</summary>
public sealed class LeaderElectionTests
{
    private const string Ns = "apps";

    [Fact]
    public async Task TwoReplicas_OnlyTheLeaderWrites_AndTheFollowerTakesOverWhenItStops()
    {
        await using var lab = await PullSecretsLab.StartAsync();
        var a = await lab.StartReplicaAsync("replica-a");
        await lab.SettleAsync();
        var b = await lab.StartReplicaAsync("replica-b");
        await lab.SettleAsync();
        Assert.True(a.Elector.IsLeader);
        Assert.False(b.Elector.IsLeader);
        Assert.Equal(1, await PullSecretsLab.MetricAsync(a, "metadata_proxy_pull_secret_leader"));
        Assert.Contains("\nmetadata_proxy_pull_secret_leader 0\n", await PullSecretsLab.MetricsTextAsync(b), StringComparison.Ordinal);

        lab.AddAccount(Ns, "first");
        await lab.AdvanceAsync(TimeSpan.FromMinutes(2));
        Assert.Equal("replica-a", lab.SecretOf(Ns, "first")!.Metadata.Annotations[ManagedSecret.WrittenByAnnotation]);
        Assert.False(b.Elector.IsLeader);
        Assert.Equal(0, b.Controller.Timer.Sleeps); // the follower's controller never ran a pass
        Assert.Equal("replica-a", lab.Kube.GetLease(PullSecretsLab.Namespace, PullSecretsLab.LeaseName)!.Spec.HolderIdentity);

        await lab.StopAsync(a); // releases the Lease
        var stopped = lab.Time.GetUtcNow();
        lab.AddAccount(Ns, "second");
        await lab.AdvanceAsync(TimeSpan.FromSeconds(2)); // one RetryPeriod
        Assert.True(b.Elector.IsLeader);
        Assert.Equal(1, await PullSecretsLab.MetricAsync(b, "metadata_proxy_pull_secret_leader"));
        await lab.AdvanceAsync(TimeSpan.FromSeconds(1));

        Assert.Equal("replica-b", lab.SecretOf(Ns, "second")!.Metadata.Annotations[ManagedSecret.WrittenByAnnotation]);
        var lease = lab.Kube.GetLease(PullSecretsLab.Namespace, PullSecretsLab.LeaseName)!;
        Assert.Equal(("replica-b", 1), (lease.Spec.HolderIdentity, lease.Spec.LeaseTransitions));
        Assert.True(lab.Time.GetUtcNow() - stopped <= TimeSpan.FromSeconds(15));
    }

    [Fact]
    public async Task LeaseOfADeadLeader_IsTakenOverAfterTheLeaseDuration_NotBefore()
    {
        await using var lab = await PullSecretsLab.StartAsync();
        var now = lab.Time.GetUtcNow().UtcDateTime;
        lab.Kube.AddLease(new V1Lease
        {
            Metadata = new V1ObjectMeta { Name = PullSecretsLab.LeaseName, NamespaceProperty = PullSecretsLab.Namespace },
            Spec = new V1LeaseSpec { HolderIdentity = "crashed", LeaseDurationSeconds = 15, AcquireTime = now, RenewTime = now, LeaseTransitions = 3 },
        });
        lab.AddAccount(Ns, "plain");
        var replica = await lab.StartReplicaAsync("replica-a");
        await lab.SettleAsync();

        await lab.AdvanceAsync(TimeSpan.FromSeconds(14));
        Assert.False(replica.Elector.IsLeader);
        Assert.Null(lab.SecretOf(Ns, "plain"));

        await lab.AdvanceAsync(TimeSpan.FromSeconds(2));
        Assert.True(replica.Elector.IsLeader);
        Assert.NotNull(lab.SecretOf(Ns, "plain"));
        var lease = lab.Kube.GetLease(PullSecretsLab.Namespace, PullSecretsLab.LeaseName)!;
        Assert.Equal(("replica-a", 4), (lease.Spec.HolderIdentity, lease.Spec.LeaseTransitions));
    }

    [Fact]
    public async Task LeaderThatCannotRenew_StopsWritingBeforeTheLeaseRunsOut()
    {
        await using var lab = await PullSecretsLab.StartAsync();
        var replica = await lab.StartReplicaAsync("replica-a");
        await lab.SettleAsync();
        Assert.True(replica.Elector.IsLeader);

        lab.Kube.GoDown();
        await lab.AdvanceAsync(TimeSpan.FromSeconds(12)); // past RenewDeadline (10 s), inside LeaseDuration (15 s)

        Assert.False(replica.Elector.IsLeader);
        lab.Kube.ComeUp();
    }
}
