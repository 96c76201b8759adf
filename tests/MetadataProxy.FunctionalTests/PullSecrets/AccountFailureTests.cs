using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Prometheus;

namespace MetadataProxy.FunctionalTests.PullSecrets;

/// <summary>Issue 13 review: what goes wrong with one account stays that account's; the others are served in the same pass.</summary>
public sealed class AccountFailureTests
{
    private const string Ns = "apps";
    private const string Gsa = "broken@test-project.iam.gserviceaccount.com";

    // IAM answers the impersonation with an access token JSON cannot read as a string (a lone surrogate escape):
    // the code fails with an exception none of the expected Kubernetes failures lists. Only the impersonating account
    // calls IAM; the federated ones ask STS alone.
    private const string UnreadableIamAnswer = """{"accessToken":"\ud800","expireTime":"2026-12-01T09:00:00Z"}""";

    [Fact]
    public async Task AccountThatThrowsUnexpectedly_AccountsBeforeAndAfterItAreServedInTheSamePass_ItIsRetriedAfterItsBackoff()
    {
        await using var lab = await PullSecretsLab.StartAsync();
        lab.Google.AllowImpersonation(PullSecretsLab.PrincipalOf(Ns, "b-broken"), Gsa);
        lab.Google.Iam.FailWith(200, UnreadableIamAnswer);
        lab.AddAccount(Ns, "a-first");
        lab.AddAccount(Ns, "b-broken", gsa: Gsa);
        lab.AddAccount(Ns, "c-last");

        var replica = await lab.StartReplicaAsync("replica-a");
        await lab.SettleAsync();

        Assert.NotNull(PullSecretsLab.TokenIn(lab.SecretOf(Ns, "a-first")));
        Assert.NotNull(PullSecretsLab.TokenIn(lab.SecretOf(Ns, "c-last")));
        Assert.Null(PullSecretsLab.TokenIn(lab.SecretOf(Ns, "b-broken"))); // its placeholder, no credential
        Assert.Equal(1, await PullSecretsLab.MetricAsync(replica, "metadata_proxy_pull_secret_refresh_total{outcome=\"unexpected_error\"}"));
        Assert.Equal(1, await PullSecretsLab.MetricAsync(replica, "metadata_proxy_pull_secrets{state=\"failing\"}"));
        Assert.Equal(0, await PullSecretsLab.MetricAsync(replica, "metadata_proxy_pull_secret_account_watch_ends_total{reason=\"list_failed\"}"));
        var lists = lab.Kube.ServiceAccountLists;

        lab.Google.Iam.Clear();
        await lab.AdvanceAsync(TimeSpan.FromSeconds(2)); // the first step of RetryDelay (5 s) is 2.5–5 s: not yet
        Assert.Null(PullSecretsLab.TokenIn(lab.SecretOf(Ns, "b-broken")));

        await lab.AdvanceAsync(TimeSpan.FromSeconds(3));
        Assert.NotNull(PullSecretsLab.TokenIn(lab.SecretOf(Ns, "b-broken")));
        Assert.Equal(3, await PullSecretsLab.MetricAsync(replica, "metadata_proxy_pull_secrets{state=\"current\"}"));
        Assert.Equal(1, await PullSecretsLab.MetricAsync(replica, "metadata_proxy_pull_secret_refresh_total{outcome=\"unexpected_error\"}"));
        Assert.Equal(lists, lab.Kube.ServiceAccountLists); // retried alone, from what the watch delivered: no relist
    }

    [Fact]
    public async Task AccountThatKeepsThrowing_IsRetriedWithGrowingBackoff_OneCountPerStep()
    {
        await using var lab = await PullSecretsLab.StartAsync();
        lab.Google.AllowImpersonation(PullSecretsLab.PrincipalOf(Ns, "b-broken"), Gsa);
        lab.Google.Iam.FailWith(200, UnreadableIamAnswer);
        lab.AddAccount(Ns, "b-broken", gsa: Gsa);
        var replica = await lab.StartReplicaAsync("replica-a");
        await lab.SettleAsync();

        // Steps of 2.5–5, 5–10, 10–20, 20–40, 40–80 s after the first attempt: by 80 s the fourth step has passed for
        // sure (at 75 s at the latest) and the fifth may have (at 77.5 s at the earliest); a flood would be hundreds.
        await lab.AdvanceAsync(TimeSpan.FromSeconds(80));
        Assert.InRange(await PullSecretsLab.MetricAsync(replica, "metadata_proxy_pull_secret_refresh_total{outcome=\"unexpected_error\"}"), 5, 6);
        Assert.Equal(1, await PullSecretsLab.MetricAsync(replica, "metadata_proxy_pull_secrets{state=\"failing\"}"));
    }

    [Fact]
    public async Task TermEndsDuringAPass_ThePassEnds_NothingIsCountedAsAFailure()
    {
        await using var lab = await PullSecretsLab.StartAsync();
        lab.AddAccount(Ns, "a-first");
        lab.AddAccount(Ns, "b-second");
        lab.Google.Sts.Latency = TimeSpan.FromSeconds(1); // a-first's exchange is in flight when the replica stops
        var replica = await lab.StartReplicaAsync("replica-a");
        await PullSecretsLab.WaitUntilAsync(() => lab.Google.StsCalls == 1);

        // The controller stops (as the host stops it): its term ends, and StopAsync waits for the pass to end.
        await replica.Controller.StopAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

        Assert.Null(PullSecretsLab.TokenIn(lab.SecretOf(Ns, "a-first"))); // its token came, but the term had ended: not written
        Assert.Null(lab.SecretOf(Ns, "b-second")); // the pass ended there
        using var stream = new MemoryStream();
        await replica.Services.GetRequiredService<CollectorRegistry>().CollectAndExportAsTextAsync(stream, TestContext.Current.CancellationToken);
        var refreshes = Encoding.UTF8.GetString(stream.ToArray()).Split('\n').Where(l => l.StartsWith("metadata_proxy_pull_secret_refresh_total{", StringComparison.Ordinal));
        Assert.Equal(["metadata_proxy_pull_secret_refresh_total{outcome=\"ok\"} 1"], refreshes.ToList()); // no failure counted for either account
    }
}
