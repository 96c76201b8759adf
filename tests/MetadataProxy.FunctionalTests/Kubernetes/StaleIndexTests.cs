using MetadataProxy.FunctionalTests.Infrastructure;

namespace MetadataProxy.FunctionalTests.Kubernetes;

/// <summary>A lab whose index may answer on its own for only 2 s after its last contact with the API server.</summary>
public sealed class ShortStalenessLab : IAsyncLifetime
{
    public KubernetesLab Lab { get; } = new();

    public ValueTask InitializeAsync()
    {
        Lab.Settings["Identity:IndexStalenessLimit"] = "00:00:02";
        Lab.Settings["Tokens:UpstreamDeadline"] = "00:00:20"; // longer than the request budget, which must win
        return Lab.InitializeAsync();
    }

    public ValueTask DisposeAsync() => Lab.DisposeAsync();
}

/// <summary>
/// Principle 1 during a long outage: known pods keep resolving for Identity:IndexStalenessLimit, then the server
/// refuses, because by then an address may belong to a pod the index has never seen.
/// </summary>
public sealed class StaleIndexTests(ShortStalenessLab fixture) : IClassFixture<ShortStalenessLab>
{
    [Fact]
    public async Task LongOutage_KnownPodsAreRefusedOnceTheIndexIsTooStale_ThenResolveAgain()
    {
        var lab = fixture.Lab;
        lab.AddPod("stale", "web", "127.0.0.50", "web", gsa: "web@test-project.iam.gserviceaccount.com");
        await lab.WaitForEmailAsync("127.0.0.50", "web@test-project.iam.gserviceaccount.com");

        lab.Kube.GoDown();
        try
        {
            await KubernetesLab.WaitUntilAsync(async () =>
            {
                var (response, body) = await lab.Client("127.0.0.50").GetWithBodyAsync("/computeMetadata/v1/instance/service-accounts/default/email");
                return response.StatusCode == HttpStatusCode.ServiceUnavailable
                    && body.Contains("has not heard from the Kubernetes API for over 2 s", StringComparison.Ordinal);
            }, seconds: 20);
        }
        finally
        {
            lab.Kube.ComeUp();
        }

        await lab.WaitForEmailAsync("127.0.0.50", "web@test-project.iam.gserviceaccount.com", seconds: 40);
    }

    [Fact]
    public async Task G_21_HangingGoogle_IsAnswered503WithinTheRequestBudget()
    {
        var lab = fixture.Lab;
        lab.AddPod("stale", "slow", "127.0.0.51", "slow");
        await lab.WaitForEmailAsync("127.0.0.51", "test-project.svc.id.goog");
        lab.Google.Sts.Latency = TimeSpan.FromSeconds(30);
        try
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var (response, body) = await lab.Client("127.0.0.51").GetWithBodyAsync("/computeMetadata/v1/instance/service-accounts/default/token?scopes=https://www.googleapis.com/auth/slow");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Contains("took longer than 2.8 s", body, StringComparison.Ordinal);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), $"answered after {clock.Elapsed}");
        }
        finally
        {
            lab.Google.Sts.Clear();
        }
    }
}
