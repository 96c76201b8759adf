using k8s;
using k8s.Models;
using MetadataProxy.PullSecrets;

namespace MetadataProxy.FunctionalTests.PullSecrets;

/// <summary>Issue 13: what the account's owner can fix is refused with a Warning Event on the account, and nothing is written.</summary>
public sealed class PullSecretRefusalTests
{
    private const string Ns = "apps";

    [Fact]
    public async Task BadAnnotation_LeavesAWarningEvent_AndNoSecret()
    {
        await using var lab = await PullSecretsLab.StartAsync();
        var account = lab.AddAccount(Ns, "typo", optIn: "europe-docker.pkg.dev/path");
        var replica = await lab.StartReplicaAsync("replica-a");
        await lab.SettleAsync();

        Assert.Null(lab.SecretOf(Ns, "typo"));
        var warning = await lab.EventAsync("PullSecretAnnotationInvalid");
        Assert.Single(lab.Kube.EventsCreated);
        Assert.Equal(("Warning", "ServiceAccount", "typo", account.Metadata.Uid), (warning.Type, warning.InvolvedObject.Kind, warning.InvolvedObject.Name, warning.InvolvedObject.Uid));
        Assert.Contains("'europe-docker.pkg.dev/path' is not a registry host pattern", warning.Message, StringComparison.Ordinal);
        Assert.Equal(1, await PullSecretsLab.MetricAsync(replica, "metadata_proxy_pull_secrets{state=\"refused\"}"));
    }

    [Fact]
    public async Task WildcardForEveryone_IsRefused()
    {
        await using var lab = await PullSecretsLab.StartAsync();
        lab.AddAccount(Ns, "greedy", optIn: "*.*");
        await lab.StartReplicaAsync("replica-a");
        await lab.SettleAsync();

        Assert.Null(lab.SecretOf(Ns, "greedy"));
        Assert.Contains("would match registries of anyone", (await lab.EventAsync("PullSecretAnnotationInvalid")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NoBindingForTheGsa_LeavesAWarningEvent_AndNoCredentialNorReference()
    {
        await using var lab = await PullSecretsLab.StartAsync();
        lab.AddAccount(Ns, "unbound", gsa: "nobody@test-project.iam.gserviceaccount.com"); // no AllowImpersonation
        var replica = await lab.StartReplicaAsync("replica-a");
        await lab.SettleAsync();

        var secret = lab.SecretOf(Ns, "unbound")!;
        Assert.Empty(PullSecretsLab.Auths(secret)); // the placeholder the token was bound to: no credential
        Assert.Null(lab.Kube.GetServiceAccount(Ns, "unbound")!.ImagePullSecrets);
        Assert.Equal("Warning", (await lab.EventAsync("PullSecretCredentialRefused", "unbound")).Type);
        Assert.True(await PullSecretsLab.MetricAsync(replica, "metadata_proxy_pull_secret_refresh_total{outcome=\"google_rejected\"}") >= 1);
    }

    [Fact]
    public async Task NameTakenBySomeoneElsesSecret_IsLeftAlone()
    {
        await using var lab = await PullSecretsLab.StartAsync();
        lab.AddAccount(Ns, "plain");
        var foreign = lab.Kube.AddSecret(new V1Secret
        {
            Metadata = new V1ObjectMeta { Name = PullSecretName.For("plain"), NamespaceProperty = Ns },
            Type = "Opaque",
            Data = new Dictionary<string, byte[]> { ["k"] = [1, 2, 3] },
        });
        await lab.StartReplicaAsync("replica-a");
        await lab.SettleAsync();

        Assert.Equal(foreign.Metadata.ResourceVersion, lab.SecretOf(Ns, "plain")!.Metadata.ResourceVersion);
        Assert.Null(lab.Kube.GetServiceAccount(Ns, "plain")!.ImagePullSecrets);
        Assert.Equal("plain", (await lab.EventAsync("PullSecretNameTaken")).InvolvedObject.Name);
    }

    [Fact]
    public async Task NameTaken_ForeignSecretDeleted_IsServedAtTheFirstRecheck_NotAtTheResync()
    {
        await using var lab = await PullSecretsLab.StartAsync();
        lab.AddAccount(Ns, "plain");
        lab.Kube.AddSecret(Foreign("plain"));
        var replica = await lab.StartReplicaAsync("replica-a");
        await lab.SettleAsync();
        Assert.Equal("plain", (await lab.EventAsync("PullSecretNameTaken")).InvolvedObject.Name);
        Assert.Equal(1, await PullSecretsLab.MetricAsync(replica, "metadata_proxy_pull_secrets{state=\"refused\"}"));

        await DeleteAsync(lab, PullSecretName.For("plain")); // the owner frees the name: no event tells the controller
        await lab.AdvanceAsync(PullSecretReconciler.NameTakenRecheck); // the first recheck comes after 15–30 s

        Assert.NotNull(PullSecretsLab.TokenIn(lab.SecretOf(Ns, "plain")));
        Assert.Equal([PullSecretName.For("plain")], lab.Kube.GetServiceAccount(Ns, "plain")!.ImagePullSecrets.Select(r => r.Name).ToList());
        Assert.Equal(1, await PullSecretsLab.MetricAsync(replica, "metadata_proxy_pull_secrets{state=\"current\"}"));
    }

    [Fact]
    public async Task NameTakenForLong_RechecksBackOffToAtMostTheirCap_WellInsideTheResync()
    {
        await using var lab = await PullSecretsLab.StartAsync();
        lab.AddAccount(Ns, "plain");
        var foreign = lab.Kube.AddSecret(Foreign("plain"));
        await lab.StartReplicaAsync("replica-a");
        await lab.SettleAsync();

        // Taken for 20 min: rechecked ever less often, the Secret never touched. Just past the resync at 20 min, the
        // next resync is 10 min away; the recheck comes within its cap of 5 min.
        await lab.AdvanceAsync(TimeSpan.FromMinutes(20) + TimeSpan.FromSeconds(1));
        Assert.Equal(foreign.Metadata.ResourceVersion, lab.SecretOf(Ns, "plain")!.Metadata.ResourceVersion);
        await DeleteAsync(lab, PullSecretName.For("plain"));
        await lab.AdvanceAsync(PullSecretReconciler.NameTakenRecheckMax);

        Assert.NotNull(PullSecretsLab.TokenIn(lab.SecretOf(Ns, "plain")));
    }

    [Fact]
    public async Task AccountWithoutAnnotation_GetsNothing()
    {
        await using var lab = await PullSecretsLab.StartAsync();
        lab.AddAccount(Ns, "default", optIn: null);
        lab.AddAccount(Ns, "declined", optIn: "false");
        await lab.StartReplicaAsync("replica-a");
        await lab.SettleAsync();

        Assert.Empty(lab.Kube.Secrets());
        Assert.Equal(0, lab.Kube.TokenRequests);
    }

    private static V1Secret Foreign(string account) => new()
    {
        Metadata = new V1ObjectMeta { Name = PullSecretName.For(account), NamespaceProperty = Ns },
        Type = "Opaque",
        Data = new Dictionary<string, byte[]> { ["k"] = [1, 2, 3] },
    };

    /// <summary>Deletes a Secret as its owner would, through the API.</summary>
    private static async Task DeleteAsync(PullSecretsLab lab, string name)
    {
        using var client = new k8s.Kubernetes(lab.Kube.ClientConfiguration());
        await client.CoreV1.DeleteNamespacedSecretAsync(name, Ns, cancellationToken: TestContext.Current.CancellationToken);
        Assert.Null(lab.Kube.GetSecret(Ns, name));
    }
}
