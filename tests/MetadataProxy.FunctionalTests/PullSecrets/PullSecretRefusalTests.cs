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
}
