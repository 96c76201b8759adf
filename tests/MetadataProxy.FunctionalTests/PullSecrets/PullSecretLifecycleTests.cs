using System.Text;
using k8s.Models;
using MetadataProxy.PullSecrets;
using MetadataProxy.TestServers.Google;

namespace MetadataProxy.FunctionalTests.PullSecrets;

/// <summary>Issue 13: an opted-in ServiceAccount's pull Secret, from creation to removal.</summary>
public sealed class PullSecretLifecycleTests
{
    private const string Ns = "apps";
    private const string Gsa = "builder@test-project.iam.gserviceaccount.com";

    [Fact]
    public async Task OptIn_CreatesOwnedSecretAndOneReference_KeepingOtherEntries()
    {
        await using var lab = await PullSecretsLab.StartAsync();
        lab.Google.AllowImpersonation(PullSecretsLab.PrincipalOf(Ns, "builder"), Gsa);
        var account = lab.AddAccount(Ns, "builder", gsa: Gsa, pullSecrets: [new V1LocalObjectReference { Name = "docker-hub" }]);

        await lab.StartReplicaAsync("replica-a");
        await lab.SettleAsync();

        var secret = lab.SecretOf(Ns, "builder")!;
        Assert.Equal("kubernetes.io/dockerconfigjson", secret.Type);
        var owner = Assert.Single(secret.Metadata.OwnerReferences);
        Assert.Equal(("ServiceAccount", "builder", account.Metadata.Uid), (owner.Kind, owner.Name, owner.Uid));
        var references = lab.Kube.GetServiceAccount(Ns, "builder")!.ImagePullSecrets.Select(r => r.Name).ToList();
        Assert.Equal(["docker-hub", PullSecretName.For("builder")], references);

        await lab.AdvanceAsync(TimeSpan.FromMinutes(2)); // several resyncs: still one reference, and the Secret not rewritten
        Assert.Equal(["docker-hub", PullSecretName.For("builder")], lab.Kube.GetServiceAccount(Ns, "builder")!.ImagePullSecrets.Select(r => r.Name).ToList());
        Assert.Equal(secret.Metadata.ResourceVersion, lab.SecretOf(Ns, "builder")!.Metadata.ResourceVersion);
    }

    [Fact]
    public async Task DockerConfig_WithGsa_HoldsTheGsasTokenForTheDefaultAndConfiguredHosts()
    {
        await using var lab = await PullSecretsLab.StartAsync();
        lab.Google.AllowImpersonation(PullSecretsLab.PrincipalOf(Ns, "builder"), Gsa);
        lab.AddAccount(Ns, "builder", gsa: Gsa);

        await lab.StartReplicaAsync("replica-a");
        await lab.SettleAsync();

        var secret = lab.SecretOf(Ns, "builder")!;
        var auths = PullSecretsLab.Auths(secret);
        Assert.Equal(["gcr.io", "*.gcr.io", "container.cloud.google.com", "europe-docker.pkg.dev"], auths.Keys.ToList());
        Assert.All(auths.Values, a => Assert.Equal("oauth2accesstoken", a.User));
        var token = PullSecretsLab.TokenIn(secret)!;
        var info = lab.Google.DescribeAccessToken(token)!;
        Assert.Equal((TokenKind.ServiceAccount, Gsa), (info.Kind, info.ServiceAccountEmail));
        Assert.Equal(lab.Time.GetUtcNow().AddHours(1), info.ExpiresAt);

        // The Kubernetes token behind it was the account's, bound to this very Secret.
        var request = lab.Kube.TokenRequestsMade[^1];
        Assert.Equal(("apps", "builder", "Secret", secret.Metadata.Name, secret.Metadata.Uid),
            (request.Namespace, request.ServiceAccount, request.BoundObjectRef!.Kind, request.BoundObjectRef.Name, request.BoundObjectRef.Uid));
        using var json = System.Text.Json.JsonDocument.Parse(secret.Data[".dockerconfigjson"]);
        var auth = json.RootElement.GetProperty("auths").GetProperty("gcr.io").GetProperty("auth").GetString()!;
        Assert.Equal($"oauth2accesstoken:{token}", Encoding.UTF8.GetString(Convert.FromBase64String(auth)));
    }

    [Fact]
    public async Task DockerConfig_WithHostListAndNoGsa_HoldsTheFederatedTokenForExactlyThoseHosts()
    {
        await using var lab = await PullSecretsLab.StartAsync();
        lab.AddAccount(Ns, "plain", optIn: "us-docker.pkg.dev, Europe-Docker.pkg.dev");

        await lab.StartReplicaAsync("replica-a");
        await lab.SettleAsync();

        var secret = lab.SecretOf(Ns, "plain")!;
        Assert.Equal(["us-docker.pkg.dev", "europe-docker.pkg.dev"], PullSecretsLab.Auths(secret).Keys.ToList());
        var info = lab.Google.DescribeAccessToken(PullSecretsLab.TokenIn(secret)!)!;
        Assert.Equal((TokenKind.Federated, PullSecretsLab.PrincipalOf(Ns, "plain")), (info.Kind, info.Principal));
        Assert.Equal(["https://www.googleapis.com/auth/cloud-platform"], info.Scopes);
    }

    [Fact]
    public async Task DockerConfig_WithNarrowedScopes_HoldsATokenOfOnlyThoseScopes()
    {
        await using var lab = await PullSecretsLab.StartAsync();
        lab.Settings["PullSecrets:Scopes"] = "https://www.googleapis.com/auth/devstorage.read_only";
        lab.Google.AllowImpersonation(PullSecretsLab.PrincipalOf(Ns, "builder"), Gsa);
        lab.AddAccount(Ns, "builder", gsa: Gsa);

        await lab.StartReplicaAsync("replica-a");
        await lab.SettleAsync();

        var info = lab.Google.DescribeAccessToken(PullSecretsLab.TokenIn(lab.SecretOf(Ns, "builder"))!)!;
        Assert.Equal(Gsa, info.ServiceAccountEmail);
        Assert.Equal(["https://www.googleapis.com/auth/devstorage.read_only"], info.Scopes);
    }

    [Fact]
    public async Task Refresh_HappensAtHalfLife_NotBefore()
    {
        await using var lab = await PullSecretsLab.StartAsync();
        lab.AddAccount(Ns, "plain");
        var replica = await lab.StartReplicaAsync("replica-a");
        await lab.SettleAsync();
        var first = PullSecretsLab.TokenIn(lab.SecretOf(Ns, "plain"))!;
        var updates = lab.Kube.SecretUpdates;

        await lab.AdvanceAsync(TimeSpan.FromMinutes(29));
        Assert.Equal(first, PullSecretsLab.TokenIn(lab.SecretOf(Ns, "plain")));
        Assert.Equal(updates, lab.Kube.SecretUpdates);
        Assert.InRange(await PullSecretsLab.MetricAsync(replica, "metadata_proxy_pull_secret_soonest_expiry_seconds"), 31 * 60 - 1, 31 * 60 + 1);

        await lab.AdvanceAsync(TimeSpan.FromMinutes(1) + TimeSpan.FromSeconds(1));
        var second = PullSecretsLab.TokenIn(lab.SecretOf(Ns, "plain"))!;
        Assert.NotEqual(first, second);
        Assert.Equal(lab.Time.GetUtcNow().AddMinutes(59).AddSeconds(59), lab.Google.DescribeAccessToken(second)!.ExpiresAt);
        Assert.Equal(1, await PullSecretsLab.MetricAsync(replica, "metadata_proxy_pull_secrets{state=\"current\"}"));
        Assert.Equal(2, await PullSecretsLab.MetricAsync(replica, "metadata_proxy_pull_secret_refresh_total{outcome=\"ok\"}"));
    }

    [Fact]
    public async Task GoogleFailing_KeepsTheOldStillValidSecret_ThenRecovers()
    {
        await using var lab = await PullSecretsLab.StartAsync();
        lab.AddAccount(Ns, "plain");
        var replica = await lab.StartReplicaAsync("replica-a");
        await lab.SettleAsync();
        var first = PullSecretsLab.TokenIn(lab.SecretOf(Ns, "plain"))!;
        var updates = lab.Kube.SecretUpdates;

        lab.Google.Sts.FailWith(503);
        await lab.AdvanceAsync(TimeSpan.FromMinutes(40));

        Assert.Equal(first, PullSecretsLab.TokenIn(lab.SecretOf(Ns, "plain")));
        Assert.Equal(updates, lab.Kube.SecretUpdates);
        Assert.True(lab.Google.DescribeAccessToken(first)!.ExpiresAt > lab.Time.GetUtcNow().AddMinutes(19));
        Assert.True(await PullSecretsLab.MetricAsync(replica, "metadata_proxy_pull_secret_refresh_total{outcome=\"google_unavailable\"}") >= 5);
        Assert.Equal(1, await PullSecretsLab.MetricAsync(replica, "metadata_proxy_pull_secrets{state=\"failing\"}"));

        lab.Google.Sts.Clear();
        await lab.AdvanceAsync(TimeSpan.FromMinutes(2)); // the longest retry delay
        var second = PullSecretsLab.TokenIn(lab.SecretOf(Ns, "plain"))!;
        Assert.NotEqual(first, second);
        Assert.True(lab.Google.DescribeAccessToken(second)!.ExpiresAt > lab.Time.GetUtcNow().AddMinutes(55));
    }

    [Fact]
    public async Task OptOut_RemovesTheSecretAndOnlyItsReference()
    {
        await using var lab = await PullSecretsLab.StartAsync();
        lab.AddAccount(Ns, "plain", pullSecrets: [new V1LocalObjectReference { Name = "docker-hub" }]);
        var replica = await lab.StartReplicaAsync("replica-a");
        await lab.SettleAsync();
        Assert.NotNull(lab.SecretOf(Ns, "plain"));

        lab.Kube.UpdateServiceAccount(Ns, "plain", sa => sa.Metadata.Annotations.Remove(PullSecretOptIn.AnnotationKey));
        await PullSecretsLab.WaitUntilAsync(() => lab.SecretOf(Ns, "plain") is null); // the watch brings it: no clock needed
        await lab.SettleAsync();

        Assert.Null(lab.SecretOf(Ns, "plain"));
        Assert.Equal(["docker-hub"], lab.Kube.GetServiceAccount(Ns, "plain")!.ImagePullSecrets.Select(r => r.Name).ToList());
        Assert.Equal(0, await PullSecretsLab.MetricAsync(replica, "metadata_proxy_pull_secret_refresh_total{outcome=\"kubernetes_unavailable\"}"));
        Assert.Equal(0, await PullSecretsLab.MetricAsync(replica, "metadata_proxy_pull_secrets{state=\"failing\"}"));
    }

    [Fact]
    public async Task ConflictingWrites_AreRetriedOnTheObjectAsItIsNow()
    {
        await using var lab = await PullSecretsLab.StartAsync();
        lab.AddAccount(Ns, "plain");
        lab.Kube.InterfereWithServiceAccountPatches(1);
        var replica = await lab.StartReplicaAsync("replica-a");
        await lab.SettleAsync();

        var account = lab.Kube.GetServiceAccount(Ns, "plain")!;
        Assert.Equal([PullSecretName.For("plain")], account.ImagePullSecrets.Select(r => r.Name).ToList());
        Assert.True(account.Metadata.Annotations.ContainsKey("test.invalid/other-writer")); // the other writer's change survived

        var first = PullSecretsLab.TokenIn(lab.SecretOf(Ns, "plain"))!;
        lab.Kube.InterfereWithSecretUpdates(1);
        await lab.AdvanceAsync(TimeSpan.FromMinutes(31));

        var secret = lab.SecretOf(Ns, "plain")!;
        Assert.NotEqual(first, PullSecretsLab.TokenIn(secret));
        Assert.True(secret.Metadata.Labels.ContainsKey("test.invalid/other-writer"));
        Assert.Equal(1, lab.Kube.SecretConflicts);
        Assert.Equal(1, await PullSecretsLab.MetricAsync(replica, "metadata_proxy_pull_secret_conflicts_total"));
    }

    [Fact]
    public async Task DeletedAccount_TakesItsSecretAlong_AndIsForgotten()
    {
        await using var lab = await PullSecretsLab.StartAsync();
        lab.AddAccount(Ns, "plain");
        var replica = await lab.StartReplicaAsync("replica-a");
        await lab.SettleAsync();

        lab.Kube.DeleteServiceAccount(Ns, "plain");
        await PullSecretsLab.WaitForMetricAsync(replica, "metadata_proxy_pull_secrets{state=\"current\"}", v => v == 0);

        Assert.Null(lab.SecretOf(Ns, "plain"));
        Assert.Equal(0, await PullSecretsLab.MetricAsync(replica, "metadata_proxy_pull_secrets{state=\"current\"}"));
        Assert.Equal(-1, await PullSecretsLab.MetricAsync(replica, "metadata_proxy_pull_secret_soonest_expiry_seconds"));
    }
}
