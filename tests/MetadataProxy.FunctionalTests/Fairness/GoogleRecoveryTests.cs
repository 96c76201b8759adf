using System.Diagnostics;
using MetadataProxy.FunctionalTests.Infrastructure;
using MetadataProxy.FunctionalTests.Kubernetes;

namespace MetadataProxy.FunctionalTests.Fairness;

/// <summary>
/// Issue 9, row 9: after a Google outage the first request that honours the Retry-After it was given goes to Google
/// and succeeds; unavailability is remembered per key for at most that Retry-After, and nothing holds a slot through
/// a back-off of its own.
/// </summary>
public sealed class GoogleRecoveryTests(KubernetesLab lab) : IClassFixture<KubernetesLab>
{
    private const string Sa = "/computeMetadata/v1/instance/service-accounts/default";
    private const string Ns = "recover";
    private const string Gsa = "recover@test-project.iam.gserviceaccount.com";

    [Fact]
    public async Task GoogleBackAfterAnOutage_NewPodsFirstTokensArriveOnTheFirstRequest()
    {
        lab.Google.AllowImpersonation(KubernetesLab.PrincipalOf(Ns, "app"), Gsa);
        const string Scoped = $"{Sa}/token?scopes=https://www.googleapis.com/auth/recover";
        const string Identity = $"{Sa}/identity?audience=https://recover.example";
        lab.Google.Sts.FailWith(503);
        lab.Google.Iam.FailWith(503);
        TimeSpan retryAfter;
        Stopwatch sinceLastRefusal;
        try
        {
            lab.AddPod(Ns, "app-1", "127.0.0.150", "app", gsa: Gsa);
            await lab.WaitForEmailAsync("127.0.0.150", Gsa);
            using var old = lab.Client("127.0.0.150");
            HttpResponseMessage? refused = null;
            foreach (var path in new[] { Scoped, Identity, Scoped, Identity })
            {
                refused?.Dispose();
                refused = await old.GetAsync(path, flavor: true);
                Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            }

            sinceLastRefusal = Stopwatch.StartNew();
            retryAfter = refused!.Headers.RetryAfter?.Delta ?? TimeSpan.Zero;
            Assert.Equal(TimeSpan.FromSeconds(1), retryAfter);
            refused.Dispose();
        }
        finally
        {
            lab.Google.Sts.Clear();
            lab.Google.Iam.Clear();
        }

        // A new pod of the same account (a rollout) asks for the same keys, as a client that was told to wait 1 s.
        lab.AddPod(Ns, "app-2", "127.0.0.151", "app", gsa: Gsa);
        await lab.WaitForEmailAsync("127.0.0.151", Gsa);
        if (retryAfter - sinceLastRefusal.Elapsed is { } remaining && remaining > TimeSpan.Zero)
            await Task.Delay(remaining, TestContext.Current.CancellationToken); // the client honouring Retry-After, not synchronisation
        using var fresh = lab.Client("127.0.0.151");
        foreach (var path in new[] { Scoped, Identity })
        {
            var clock = Stopwatch.StartNew();
            var started = DateTimeOffset.UtcNow;
            var (response, body) = await fresh.GetWithBodyAsync(path);
            var elapsed = clock.Elapsed;
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {(int)response.StatusCode} {body}\n{Trace(started)}");
            Assert.True(elapsed < TimeSpan.FromSeconds(1), $"{path} took {elapsed} from {started:O}\n{Trace(started)}");
        }
    }

    /// <summary>
    /// Google.Apis.Auth sends an account's federated-token exchange inside a refresh shared by every chain of the account
    /// and run under its own timeouts (12 s, then 1 and 5 minutes), not a caller's: a call sent while Google hung went on
    /// after Google was back, and a new pod's first ID token joined it and timed out without anything being sent, on every
    /// retry, until the library gave up on it. Every Google call now ends at the upstream deadline as a failure, which
    /// ends the shared refresh: the caller that joined the doomed refresh is told 503 with Retry-After, and its retry
    /// sends afresh.
    /// </summary>
    [Fact]
    public async Task GoogleHungThenBack_NewPodsIdTokenArrivesOnTheRetryItWasTold()
    {
        const string HungGsa = "hung@test-project.iam.gserviceaccount.com";
        const string Identity = $"{Sa}/identity?audience=https://hung.example";
        lab.Google.AllowImpersonation(KubernetesLab.PrincipalOf(Ns, "hung"), HungGsa);
        lab.AddPod(Ns, "hung-1", "127.0.0.153", "hung", gsa: HungGsa);
        await lab.WaitForEmailAsync("127.0.0.153", HungGsa);

        // Google hangs rather than refusing: calls sent now would be answered only after the library's own 12 s timeout.
        lab.Google.Sts.Latency = TimeSpan.FromSeconds(20);
        lab.Google.Iam.Latency = TimeSpan.FromSeconds(20);
        try
        {
            using var old = lab.Client("127.0.0.153");
            var (refused, refusedBody) = await old.GetWithBodyAsync(Identity);
            Assert.True(refused.StatusCode == HttpStatusCode.ServiceUnavailable, $"{(int)refused.StatusCode} {refusedBody}");
        }
        finally
        {
            lab.Google.Sts.Clear();
            lab.Google.Iam.Clear();
        }

        // Google is back; what was sent during the outage may still hang. A new pod of the account asks at once, and
        // once more after the Retry-After it is given, as clients do.
        lab.AddPod(Ns, "hung-2", "127.0.0.154", "hung", gsa: HungGsa);
        await lab.WaitForEmailAsync("127.0.0.154", HungGsa);
        using var fresh = lab.Client("127.0.0.154");
        var clock = Stopwatch.StartNew();
        var started = DateTimeOffset.UtcNow;
        var (response, body) = await fresh.GetWithBodyAsync(Identity);
        if (response.StatusCode == HttpStatusCode.ServiceUnavailable)
        {
            var wait = response.Headers.RetryAfter?.Delta;
            Assert.True(wait is { } w && w <= TimeSpan.FromSeconds(1), $"Retry-After {wait}: {body}");
            await Task.Delay(wait!.Value, TestContext.Current.CancellationToken); // the client honouring Retry-After, not synchronisation
            (response, body) = await fresh.GetWithBodyAsync(Identity);
        }

        var elapsed = clock.Elapsed;
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode} {body} after {elapsed}\n{Trace(started)}");
        Assert.True(elapsed < TimeSpan.FromSeconds(2.5 + 1 + 1), $"took {elapsed} from {started:O}\n{Trace(started)}");
    }

    /// <summary>What Google saw, received and answered, to set against when the server's answer came.</summary>
    private string Trace(DateTimeOffset since) =>
        string.Join("\n", lab.Google.StsRequests.Where(r => r.ReceivedAt >= since.AddSeconds(-3)).Select(r => $"{r.ReceivedAt:HH:mm:ss.fff} STS {r.Subject} {r.Status}"))
        + "\n" + string.Join("\n", lab.Google.IamRequests.Where(r => r.ReceivedAt >= since.AddSeconds(-3))
            .Select(r => $"{r.ReceivedAt:HH:mm:ss.fff}-{r.AnsweredAt:HH:mm:ss.fff} IAM {r.Method} {r.ServiceAccountEmail} {r.Status} {r.Audience}"));

    [Fact]
    public async Task GoogleDown_RefusalsAre503WithRetryAfterAndNoRetriesOfTheServersOwn()
    {
        lab.Google.AllowImpersonation(KubernetesLab.PrincipalOf(Ns, "quiet"), "quiet@test-project.iam.gserviceaccount.com");
        lab.AddPod(Ns, "quiet-1", "127.0.0.152", "quiet", gsa: "quiet@test-project.iam.gserviceaccount.com");
        await lab.WaitForEmailAsync("127.0.0.152", "quiet@test-project.iam.gserviceaccount.com");
        lab.Google.Iam.FailWith(503);
        try
        {
            var (response, body) = await lab.Client("127.0.0.152").GetWithBodyAsync($"{Sa}/token?scopes=https://www.googleapis.com/auth/quiet");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Contains("503", body, StringComparison.Ordinal);
            Assert.NotNull(response.Headers.RetryAfter);
        }
        finally
        {
            lab.Google.Iam.Clear();
        }

        // Google.Apis.Auth would retry a 503 itself, up to 3 times with back-off, holding a slot; here one call.
        Assert.Single(lab.Google.IamRequests, r => r.Body.Contains("auth/quiet", StringComparison.Ordinal));
    }
}
