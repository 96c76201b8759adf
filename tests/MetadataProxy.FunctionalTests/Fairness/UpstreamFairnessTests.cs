using System.Diagnostics;
using MetadataProxy.FunctionalTests.Infrastructure;
using MetadataProxy.FunctionalTests.Kubernetes;

namespace MetadataProxy.FunctionalTests.Fairness;

/// <summary>
/// Issue 9, row 3 and the shared HTTP stack: one pod inventing scopes and audiences pays for it itself (429), every
/// other account's first token still arrives within the normal budget with Google at 700 ms, the flood's upstream
/// calls stay bounded, and right after it, in the same server, new accounts' first access and ID tokens arrive at once.
/// </summary>
public sealed class UpstreamFairnessTests(KubernetesLab lab) : IClassFixture<KubernetesLab>
{
    private const string Sa = "/computeMetadata/v1/instance/service-accounts/default";
    private const string Ns = "fair";
    private static readonly TimeSpan NormalBudget = TimeSpan.FromSeconds(2.5); // Tokens:UpstreamDeadline

    [Fact]
    public async Task FloodOfScopesAndAudiences_GoogleAt700ms_AnotherAccountsFirstTokensArriveWithinTheBudget()
    {
        const string FloodGsa = "flood@test-project.iam.gserviceaccount.com";
        const string VictimGsa = "victim@test-project.iam.gserviceaccount.com";
        lab.Google.AllowImpersonation(KubernetesLab.PrincipalOf(Ns, "flood"), FloodGsa);
        lab.Google.AllowImpersonation(KubernetesLab.PrincipalOf(Ns, "victim"), VictimGsa);
        lab.AddPod(Ns, "flood-1", "127.0.0.120", "flood", gsa: FloodGsa);
        await lab.WaitForEmailAsync("127.0.0.120", FloodGsa);
        var iamBefore = lab.Google.IamRequests.Count(r => r.ServiceAccountEmail == FloodGsa);

        lab.Google.Sts.Latency = TimeSpan.FromMilliseconds(700);
        lab.Google.Iam.Latency = TimeSpan.FromMilliseconds(700);
        try
        {
            using var flooder = lab.Client("127.0.0.120");
            var flood = Enumerable.Range(0, 300).Select(i => flooder.GetAsync(i % 2 == 0
                ? $"{Sa}/token?scopes=https://www.googleapis.com/auth/flood-{i}"
                : $"{Sa}/identity?audience=https://flood-{i}.example", flavor: true)).ToList();
            await KubernetesLab.WaitUntilAsync(() => Task.FromResult(lab.Google.IamRequests.Count(r => r.ServiceAccountEmail == FloodGsa) > iamBefore));

            // A new pod of another account appears in the middle of the flood: its first tokens need the whole
            // chain (TokenRequest, STS at 700 ms, IAM at 700 ms).
            lab.AddPod(Ns, "victim-1", "127.0.0.121", "victim", gsa: VictimGsa);
            await lab.WaitForEmailAsync("127.0.0.121", VictimGsa);
            using var victim = lab.Client("127.0.0.121");
            foreach (var path in new[] { $"{Sa}/token", $"{Sa}/token?scopes=https://www.googleapis.com/auth/victim-own", $"{Sa}/identity?audience=https://victim.example" })
            {
                var clock = Stopwatch.StartNew();
                var (response, body) = await victim.GetWithBodyAsync(path);
                Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {(int)response.StatusCode} {body}");
                Assert.True(clock.Elapsed < NormalBudget, $"{path} took {clock.Elapsed}");
            }

            var answers = await Task.WhenAll(flood);
            var statuses = answers.Select(a => (int)a.StatusCode).ToList();
            Assert.All(statuses, s => Assert.Contains(s, new[] { 200, 429, 503 }));
            Assert.Contains(429, statuses);
            Assert.All(answers.Where(a => a.StatusCode == HttpStatusCode.TooManyRequests), a => Assert.NotNull(a.Headers.RetryAfter));
            foreach (var answer in answers)
                answer.Dispose();
        }
        finally
        {
            lab.Google.Sts.Clear();
            lab.Google.Iam.Clear();
        }

        // Upstream calls are bounded by the account's budget, not by the 300 requests: one federated token for
        // every scope set and audience, IAM calls at most the new-key burst plus its refill.
        var minted = lab.Kube.TokenRequestsMade.Where(r => r.Namespace == Ns && r.ServiceAccount == "flood").ToList();
        var exchanged = lab.Google.StsRequests.Where(r => r.Subject == $"system:serviceaccount:{Ns}:flood").ToList();
        Assert.True(minted.Count == 1, string.Join("\n", exchanged.Select(r => $"{r.ReceivedAt:O} {r.Status} {string.Join(' ', r.Scopes)}")) + "\n" + string.Join("\n", lab.Google.StsRequests.Select(r => $"{r.ReceivedAt:O} {r.Subject} {r.Status} {r.Error}")));
        Assert.True(exchanged.Count == 1, string.Join("\n", exchanged.Select(r => $"{r.ReceivedAt:O} {r.Status} {string.Join(' ', r.Scopes)}")));
        Assert.InRange(lab.Google.IamRequests.Count(r => r.ServiceAccountEmail == FloodGsa) - iamBefore, 1, 16 + 10);
        Assert.True(await lab.MetricAsync("metadata_proxy_token_fetch_refusals_total{reason=\"account_new_key_limit\"}")
            + await lab.MetricAsync("metadata_proxy_token_fetch_refusals_total{reason=\"account_fetch_limit\"}") > 0);

        // Right after the flood, in the same server, with Google fast again: a new account's first tokens arrive at
        // once. Nothing the flood left behind (fetches the library still runs, connections, slots) stands in front of them.
        for (var i = 0; i < 12; i++)
        {
            var ksa = $"next-{i}";
            var gsa = $"next-{i}@test-project.iam.gserviceaccount.com";
            var ip = $"127.0.0.{160 + i}";
            lab.Google.AllowImpersonation(KubernetesLab.PrincipalOf(Ns, ksa), gsa);
            lab.AddPod(Ns, $"{ksa}-pod", ip, ksa, gsa: gsa);
            await lab.WaitForEmailAsync(ip, gsa);
            using var next = lab.Client(ip);
            foreach (var path in new[] { $"{Sa}/token", $"{Sa}/identity?audience=https://next.example" })
            {
                var clock = Stopwatch.StartNew();
                var started = DateTimeOffset.UtcNow;
                var (response, body) = await next.GetWithBodyAsync(path);
                var elapsed = clock.Elapsed;
                Assert.True(response.StatusCode == HttpStatusCode.OK, $"{ksa} {path}: {(int)response.StatusCode} {body}\n{Trace(started)}");
                Assert.True(elapsed < TimeSpan.FromSeconds(1), $"{ksa} {path} took {elapsed} from {started:O}\n{Trace(started)}");
            }
        }
    }

    /// <summary>What Google saw, received and answered, to set against when the server's answer came.</summary>
    private string Trace(DateTimeOffset since) =>
        string.Join("\n", lab.Google.StsRequests.Where(r => r.ReceivedAt >= since.AddSeconds(-3)).Select(r => $"{r.ReceivedAt:HH:mm:ss.fff} STS {r.Subject} {r.Status}"))
        + "\n" + string.Join("\n", lab.Google.IamRequests.Where(r => r.ReceivedAt >= since.AddSeconds(-3))
            .Select(r => $"{r.ReceivedAt:HH:mm:ss.fff}-{r.AnsweredAt:HH:mm:ss.fff} IAM {r.Method} {r.ServiceAccountEmail} {r.Status} {r.Audience}"));
}
