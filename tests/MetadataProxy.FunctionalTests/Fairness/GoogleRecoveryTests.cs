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
    public async Task GoogleBackAfterAnOutage_NewPodsFirstTokenArrivesOnTheFirstRequest()
    {
        lab.Google.AllowImpersonation(KubernetesLab.PrincipalOf(Ns, "app"), Gsa);
        const string Scoped = $"{Sa}/token?scopes=https://www.googleapis.com/auth/recover";
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
            for (var i = 0; i < 3; i++)
            {
                refused?.Dispose();
                refused = await old.GetAsync(Scoped, flavor: true);
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

        // A new pod of the same account (a rollout) asks for the same key, as a client that was told to wait 1 s.
        lab.AddPod(Ns, "app-2", "127.0.0.151", "app", gsa: Gsa);
        await lab.WaitForEmailAsync("127.0.0.151", Gsa);
        if (retryAfter - sinceLastRefusal.Elapsed is { } remaining && remaining > TimeSpan.Zero)
            await Task.Delay(remaining, TestContext.Current.CancellationToken); // the client honouring Retry-After, not synchronisation
        using var fresh = lab.Client("127.0.0.151");
        var clock = Stopwatch.StartNew();
        var (response, body) = await fresh.GetWithBodyAsync(Scoped);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode} {body}");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"took {clock.Elapsed}");
    }

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
