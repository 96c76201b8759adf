using MetadataProxy.FunctionalTests.Infrastructure;
using MetadataProxy.FunctionalTests.Kubernetes;

namespace MetadataProxy.FunctionalTests.Operations;

/// <summary>
/// Issue 10, point 8: the monitoring pack's series move with real calls to the Kubernetes and Google test servers,
/// with bounded labels (call, outcome, cache), never addresses or accounts.
/// </summary>
public sealed class UpstreamMetricsTests(KubernetesLab lab) : IClassFixture<KubernetesLab>
{
    private const string Sa = "/computeMetadata/v1/instance/service-accounts/default";

    [Fact]
    public async Task TokenThroughStsAndIam_CountsEachUpstreamCallAsOk()
    {
        const string Gsa = "metrics-ok@test-project.iam.gserviceaccount.com";
        var tokenRequests = await lab.MetricAsync("metadata_proxy_upstream_calls_total{call=\"token_request\",outcome=\"ok\"}");
        var sts = await lab.MetricAsync("metadata_proxy_upstream_calls_total{call=\"sts\",outcome=\"ok\"}");
        var iam = await lab.MetricAsync("metadata_proxy_upstream_calls_total{call=\"iam_access_token\",outcome=\"ok\"}");
        var stsTimed = await lab.MetricAsync("metadata_proxy_upstream_call_duration_seconds_count{call=\"sts\"}");
        lab.Google.AllowImpersonation(KubernetesLab.PrincipalOf("mt", "ok"), Gsa);
        lab.AddPod("mt", "ok-1", "127.0.0.150", "ok", gsa: Gsa);

        await KubernetesLab.WaitUntilAsync(async () =>
            (await lab.Client("127.0.0.150").GetAsync($"{Sa}/token", flavor: true)).StatusCode == HttpStatusCode.OK);

        Assert.True(await lab.MetricAsync("metadata_proxy_upstream_calls_total{call=\"token_request\",outcome=\"ok\"}") > tokenRequests);
        Assert.True(await lab.MetricAsync("metadata_proxy_upstream_calls_total{call=\"sts\",outcome=\"ok\"}") > sts);
        Assert.True(await lab.MetricAsync("metadata_proxy_upstream_calls_total{call=\"iam_access_token\",outcome=\"ok\"}") > iam);
        Assert.True(await lab.MetricAsync("metadata_proxy_upstream_call_duration_seconds_count{call=\"sts\"}") > stsTimed);
        var body = await MetricsTextAsync();
        Assert.DoesNotContain("127.0.0.150", body, StringComparison.Ordinal);
        Assert.DoesNotContain(Gsa, body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task IamFailure_IsCountedWithItsStatusClass()
    {
        const string Gsa = "metrics-fail@test-project.iam.gserviceaccount.com";
        var failed = await lab.MetricAsync("metadata_proxy_upstream_calls_total{call=\"iam_access_token\",outcome=\"5xx\"}");
        lab.Google.AllowImpersonation(KubernetesLab.PrincipalOf("mt", "fail"), Gsa);
        lab.Google.Iam.FailWith(500);
        try
        {
            lab.AddPod("mt", "fail-1", "127.0.0.151", "fail", gsa: Gsa);
            await KubernetesLab.WaitUntilAsync(async () =>
                (await lab.Client("127.0.0.151").GetAsync($"{Sa}/token", flavor: true)).StatusCode == HttpStatusCode.ServiceUnavailable);
        }
        finally
        {
            lab.Google.Iam.Clear();
        }

        Assert.True(await lab.MetricAsync("metadata_proxy_upstream_calls_total{call=\"iam_access_token\",outcome=\"5xx\"}") > failed);
    }

    [Fact]
    public async Task StsPastTheDeadline_IsCountedAsATimeout()
    {
        lab.AddPod("mt", "slow-1", "127.0.0.154", "slow");
        await KubernetesLab.WaitUntilAsync(async () => (await lab.Client("127.0.0.154").GetAsync($"{Sa}/email", flavor: true)).StatusCode == HttpStatusCode.OK);
        var timeouts = await lab.MetricAsync("metadata_proxy_upstream_calls_total{call=\"sts\",outcome=\"timeout\"}");
        lab.Google.Sts.Latency = TimeSpan.FromSeconds(20);
        try
        {
            var (response, _) = await lab.Client("127.0.0.154").GetWithBodyAsync($"{Sa}/token?scopes=https://www.googleapis.com/auth/metrics-slow");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            // The answer leaves at the deadline; the call is counted when the handler sees its cancellation.
            await KubernetesLab.WaitUntilAsync(async () =>
                await lab.MetricAsync("metadata_proxy_upstream_calls_total{call=\"sts\",outcome=\"timeout\"}") > timeouts);
        }
        finally
        {
            lab.Google.Sts.Clear();
        }

        Assert.True(await lab.MetricAsync("metadata_proxy_upstream_calls_total{call=\"sts\",outcome=\"timeout\"}") > timeouts);
    }

    [Fact]
    public async Task TokenRequestThrottled_IsCountedWithItsStatusClass()
    {
        lab.AddPod("mt", "throttled-1", "127.0.0.155", "throttled");
        await KubernetesLab.WaitUntilAsync(async () => (await lab.Client("127.0.0.155").GetAsync($"{Sa}/email", flavor: true)).StatusCode == HttpStatusCode.OK);
        var refused = await lab.MetricAsync("metadata_proxy_upstream_calls_total{call=\"token_request\",outcome=\"4xx\"}");
        lab.Kube.Throttle(retryAfterSeconds: 1);
        try
        {
            // A new scope set is a new chain for an account without a Google service account: a new TokenRequest (429).
            var attempt = 0;
            await KubernetesLab.WaitUntilAsync(async () =>
            {
                await lab.Client("127.0.0.155").GetAsync($"{Sa}/token?scopes=https://www.googleapis.com/auth/metrics-throttled-{attempt++}", flavor: true);
                return await lab.MetricAsync("metadata_proxy_upstream_calls_total{call=\"token_request\",outcome=\"4xx\"}") > refused;
            });
        }
        finally
        {
            lab.Kube.StopThrottling();
        }

        Assert.True(await lab.MetricAsync("metadata_proxy_upstream_calls_total{call=\"token_request\",outcome=\"4xx\"}") > refused);
    }

    [Fact]
    public async Task SameTokenTwice_IsAMissThenAHit_AndTheCacheExportsItsSizeAndSoonestExpiry()
    {
        const string Gsa = "metrics-cache@test-project.iam.gserviceaccount.com";
        const string Scoped = $"{Sa}/token?scopes=https://www.googleapis.com/auth/metrics-cache";
        lab.Google.AllowImpersonation(KubernetesLab.PrincipalOf("mt", "cache"), Gsa);
        lab.AddPod("mt", "cache-1", "127.0.0.153", "cache", gsa: Gsa);
        await lab.WaitForEmailAsync("127.0.0.153", Gsa);

        var misses = await lab.MetricAsync("metadata_proxy_token_cache_misses_total{cache=\"access\"}");
        var (first, _) = await lab.Client("127.0.0.153").GetWithBodyAsync(Scoped);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.True(await lab.MetricAsync("metadata_proxy_token_cache_misses_total{cache=\"access\"}") > misses);

        var hits = await lab.MetricAsync("metadata_proxy_token_cache_hits_total{cache=\"access\"}");
        misses = await lab.MetricAsync("metadata_proxy_token_cache_misses_total{cache=\"access\"}");
        var (second, _) = await lab.Client("127.0.0.153").GetWithBodyAsync(Scoped);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(hits + 1, await lab.MetricAsync("metadata_proxy_token_cache_hits_total{cache=\"access\"}"));
        Assert.Equal(misses, await lab.MetricAsync("metadata_proxy_token_cache_misses_total{cache=\"access\"}"));

        Assert.True(await lab.MetricAsync("metadata_proxy_token_cache_entries{cache=\"access\"}") >= 1);
        // The test server issues one-hour tokens: the soonest expiry among tokens in use is within that hour, and not yet due.
        Assert.InRange(await lab.MetricAsync("metadata_proxy_token_cache_soonest_expiry_seconds{cache=\"access\"}"), 600, 3600);
        Assert.Equal(-1, await lab.MetricAsync("metadata_proxy_token_cache_soonest_expiry_seconds{cache=\"id\"}"));
    }

    [Fact]
    public async Task WatchAge_IsSmallOnceTheInformerHasListed()
    {
        // The lab's informer has listed before /readyz; bookmarks and events keep the age low, and it is never the -1 of "never".
        var age = await lab.MetricAsync("metadata_proxy_pod_watch_last_event_age_seconds");
        Assert.InRange(age, 0, 60);
    }

    [Fact]
    public async Task BuildInfoAndRuntimeMetrics_AreExported()
    {
        var body = await MetricsTextAsync();
        Assert.Matches(@"(?m)^metadata_proxy_build_info\{version=""[^""]+""\} 1$", body);
        Assert.Contains("dotnet_collection_count_total", body, StringComparison.Ordinal);
        Assert.Contains("process_cpu_seconds_total", body, StringComparison.Ordinal);
    }

    private async Task<string> MetricsTextAsync()
    {
        using var admin = new HttpClient { BaseAddress = lab.Proxy.AdminUri };
        return await admin.GetStringAsync("/metrics", TestContext.Current.CancellationToken);
    }
}
