using System.Text;
using k8s;
using MetadataProxy.Kubernetes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Prometheus;

namespace MetadataProxy.FunctionalTests.PullSecrets;

/// <summary>Issue 13 review: what goes wrong with one account stays that account's; the others are served in the same pass.</summary>
public sealed class AccountFailureTests
{
    private const string Ns = "apps";
    private const string Gsa = "broken@test-project.iam.gserviceaccount.com";

    // IAM answers the impersonation with an access token JSON cannot read as a string (a lone surrogate escape): an
    // answer of Google's that cannot be used, which is refused and retried like any other, not a failure no one expects.
    // Only the impersonating account calls IAM; the federated ones ask STS alone.
    private const string UnreadableIamAnswer = """{"accessToken":"\ud800","expireTime":"2026-12-01T09:00:00Z"}""";

    [Fact]
    public async Task AccountThatThrowsUnexpectedly_AccountsBeforeAndAfterItAreServedInTheSamePass_ItIsRetriedAfterItsBackoff()
    {
        await using var lab = await PullSecretsLab.StartAsync();
        var failure = new ThrowingTokenRequests(Ns, "b-broken");
        lab.AddAccount(Ns, "a-first");
        lab.AddAccount(Ns, "b-broken");
        lab.AddAccount(Ns, "c-last");

        var replica = await lab.StartReplicaAsync("replica-a", failure.Register);
        await lab.SettleAsync();

        Assert.NotNull(PullSecretsLab.TokenIn(lab.SecretOf(Ns, "a-first")));
        Assert.NotNull(PullSecretsLab.TokenIn(lab.SecretOf(Ns, "c-last")));
        Assert.NotNull(lab.SecretOf(Ns, "b-broken"));
        Assert.Null(PullSecretsLab.TokenIn(lab.SecretOf(Ns, "b-broken"))); // its placeholder, no credential
        Assert.Equal(1, failure.Thrown);
        Assert.Equal(1, await PullSecretsLab.MetricAsync(replica, "metadata_proxy_pull_secret_refresh_total{outcome=\"unexpected_error\"}"));
        Assert.Equal(1, await PullSecretsLab.MetricAsync(replica, "metadata_proxy_pull_secrets{state=\"failing\"}"));
        Assert.Equal(0, await PullSecretsLab.MetricAsync(replica, "metadata_proxy_pull_secret_account_watch_ends_total{reason=\"list_failed\"}"));
        var lists = lab.Kube.ServiceAccountLists;

        failure.Throwing = false;
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
        var failure = new ThrowingTokenRequests(Ns, "b-broken");
        lab.AddAccount(Ns, "b-broken");
        var replica = await lab.StartReplicaAsync("replica-a", failure.Register);
        await lab.SettleAsync();

        // Steps of 2.5–5, 5–10, 10–20, 20–40, 40–80 s after the first attempt: by 80 s the fourth step has passed for
        // sure (at 75 s at the latest) and the fifth may have (at 77.5 s at the earliest); a flood would be hundreds.
        await lab.AdvanceAsync(TimeSpan.FromSeconds(80));
        var counted = await PullSecretsLab.MetricAsync(replica, "metadata_proxy_pull_secret_refresh_total{outcome=\"unexpected_error\"}");
        Assert.InRange(counted, 5, 6);
        Assert.Equal(counted, failure.Thrown); // one attempt per step, each counted once
        Assert.Equal(1, await PullSecretsLab.MetricAsync(replica, "metadata_proxy_pull_secrets{state=\"failing\"}"));
    }

    [Fact]
    public async Task IamAnswerItCannotRead_IsGoogleUnavailable_RetriedWithBackoff_NotUnexpected()
    {
        await using var lab = await PullSecretsLab.StartAsync();
        lab.Google.AllowImpersonation(PullSecretsLab.PrincipalOf(Ns, "b-broken"), Gsa);
        lab.Google.Iam.FailWith(200, UnreadableIamAnswer);
        lab.AddAccount(Ns, "a-first");
        lab.AddAccount(Ns, "b-broken", gsa: Gsa);
        var replica = await lab.StartReplicaAsync("replica-a");
        await lab.SettleAsync();

        Assert.NotNull(PullSecretsLab.TokenIn(lab.SecretOf(Ns, "a-first")));
        Assert.Null(PullSecretsLab.TokenIn(lab.SecretOf(Ns, "b-broken")));
        Assert.Equal(1, await PullSecretsLab.MetricAsync(replica, "metadata_proxy_pull_secret_refresh_total{outcome=\"google_unavailable\"}"));
        Assert.Equal(0, await PullSecretsLab.MetricAsync(replica, "metadata_proxy_pull_secret_refresh_total{outcome=\"unexpected_error\"}"));
        Assert.Equal(1, await PullSecretsLab.MetricAsync(replica, "metadata_proxy_pull_secrets{state=\"failing\"}"));

        lab.Google.Iam.Clear();
        await lab.AdvanceAsync(TimeSpan.FromSeconds(5)); // the first step of RetryDelay: 2.5–5 s
        Assert.NotNull(PullSecretsLab.TokenIn(lab.SecretOf(Ns, "b-broken")));
        Assert.Equal(2, await PullSecretsLab.MetricAsync(replica, "metadata_proxy_pull_secrets{state=\"current\"}"));
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

    /// <summary>
    /// The account's TokenRequests fail, while <see cref="Throwing"/>, with what none of the expected Kubernetes
    /// failures is (no configuration of the test servers provokes a bug): an exception the client's HTTP stack passes
    /// on as it is, so the controller meets it where a bug in the account's reconcile would throw.
    /// </summary>
    private sealed class ThrowingTokenRequests(string ns, string account) : DelegatingHandler
    {
        private int _thrown;
        private volatile bool _throwing = true;

        public bool Throwing { get => _throwing; set => _throwing = value; }

        public int Thrown => Volatile.Read(ref _thrown);

        /// <summary>The replica's Kubernetes client, built as the server builds it, with this handler in its stack.</summary>
        public void Register(IServiceCollection services) =>
            services.AddSingleton<IKubernetes>(sp =>
                new k8s.Kubernetes(KubernetesClientFactory.Configuration(sp.GetRequiredService<IOptions<KubernetesOptions>>().Value), this));

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (!Throwing || request.Method != HttpMethod.Post || request.RequestUri?.AbsolutePath != $"/api/v1/namespaces/{ns}/serviceaccounts/{account}/token")
                return base.SendAsync(request, cancellationToken);
            Interlocked.Increment(ref _thrown);
            throw new InvalidOperationException($"a failure no one expects, in {ns}/{account}'s reconcile");
        }
    }
}
