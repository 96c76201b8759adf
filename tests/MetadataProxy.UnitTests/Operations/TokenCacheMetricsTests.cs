using System.Globalization;
using System.Text;
using MetadataProxy.Operations;
using MetadataProxy.Tokens;
using Microsoft.Extensions.Time.Testing;
using Prometheus;

namespace MetadataProxy.UnitTests.Operations;

/// <summary>Issue 10, point 8: the token cache's counters and scrape-time gauges, on a fake clock.</summary>
public sealed class TokenCacheMetricsTests
{
    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 23, 12, 0, 0, TimeSpan.Zero));
    private readonly CollectorRegistry _registry = Metrics.NewCustomRegistry();
    private readonly TokenCache<string> _cache;

    public TokenCacheMetricsTests() =>
        _cache = new TokenCache<string>(new TokenCachePolicy(() => 0.5), _time, metrics: new ProxyMetrics(_registry), name: "access").Observed();

    [Fact]
    public async Task MissThenHits_ThenOneRefreshWhenDue_HoweverManyCallersSeeItDue()
    {
        await _cache.GetAsync("k", Fetch("t1"), CancellationToken.None);
        Assert.Equal(1, await MetricAsync("metadata_proxy_token_cache_misses_total{cache=\"access\"}"));
        Assert.Equal(0, await MetricAsync("metadata_proxy_token_cache_hits_total{cache=\"access\"}"));

        _time.Advance(TimeSpan.FromMinutes(47)); // due at 46.5 min (12 min margin, 1.5 min jitter)
        var gate = new TaskCompletionSource<TokenOutcome>(TaskCreationOptions.RunContinuationsAsynchronously);
        for (var i = 0; i < 3; i++)
            await _cache.GetAsync("k", _ => gate.Task, CancellationToken.None);

        Assert.Equal(3, await MetricAsync("metadata_proxy_token_cache_hits_total{cache=\"access\"}"));
        Assert.Equal(1, await MetricAsync("metadata_proxy_token_cache_refreshes_total{cache=\"access\"}"));
        Assert.Equal(1, await MetricAsync("metadata_proxy_token_cache_misses_total{cache=\"access\"}"));
        gate.SetResult(Token("t2"));
    }

    [Fact]
    public async Task SoonestExpiry_FollowsTheClock_AndIsMinusOneWhenNoTokenIsKeptFresh()
    {
        Assert.Equal(-1, await MetricAsync("metadata_proxy_token_cache_soonest_expiry_seconds{cache=\"access\"}"));
        await _cache.GetAsync("k", Fetch("t1"), CancellationToken.None);
        Assert.Equal(3600, await MetricAsync("metadata_proxy_token_cache_soonest_expiry_seconds{cache=\"access\"}"));
        Assert.Equal(1, await MetricAsync("metadata_proxy_token_cache_entries{cache=\"access\"}"));

        _time.Advance(TimeSpan.FromMinutes(40));
        Assert.Equal(1200, await MetricAsync("metadata_proxy_token_cache_soonest_expiry_seconds{cache=\"access\"}"));
    }

    [Fact]
    public async Task SoonestExpiry_IgnoresATokenNobodyWillAskForBeforeItsNextRefresh()
    {
        await _cache.GetAsync("k", Fetch("t1"), CancellationToken.None);
        _time.Advance(TimeSpan.FromMinutes(47));
        Assert.Equal(1, _cache.RefreshDue()); // asked for 47 min ago: kept fresh once more

        // The new token's refresh (at 93.5 min) comes more than a lifetime after the last ask: it is left to expire,
        // and its approaching expiry must not look like failing refreshes.
        Assert.Equal(1, await MetricAsync("metadata_proxy_token_cache_refreshes_total{cache=\"access\"}"));
        for (var i = 0; i < 500 && await MetricAsync("metadata_proxy_token_cache_soonest_expiry_seconds{cache=\"access\"}") > 0; i++)
            await Task.Delay(10, TestContext.Current.CancellationToken); // the refresh completes on the thread pool
        Assert.Equal(-1, await MetricAsync("metadata_proxy_token_cache_soonest_expiry_seconds{cache=\"access\"}"));
        Assert.Equal(1, await MetricAsync("metadata_proxy_token_cache_entries{cache=\"access\"}"));
    }

    [Theory]
    [InlineData("https://sts.googleapis.com/v1/token", "sts")]
    [InlineData("http://127.0.0.1:4567/v1/token", "sts")]
    [InlineData("https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/a@p.iam.gserviceaccount.com:generateAccessToken", "iam_access_token")]
    [InlineData("http://127.0.0.1:4567/base/v1/projects/-/serviceAccounts/a@p.iam.gserviceaccount.com:generateIdToken", "iam_id_token")]
    [InlineData("https://oauth2.googleapis.com/tokeninfo", "google_other")]
    public void GoogleCalls_AreClassifiedByPathWhateverTheHost(string uri, string call) =>
        Assert.Equal(call, UpstreamOutcomes.GoogleCallOf(new Uri(uri)));

    private Func<CancellationToken, Task<TokenOutcome>> Fetch(string value) => _ => Task.FromResult<TokenOutcome>(Token(value));

    private TokenOutcome.AccessToken Token(string value) => new(value, _time.GetUtcNow() + Hour);

    /// <summary>One series' value, 0 when absent (a labelled series appears on its first use).</summary>
    private async Task<double> MetricAsync(string series)
    {
        using var stream = new MemoryStream();
        await _registry.CollectAndExportAsTextAsync(stream, TestContext.Current.CancellationToken);
        var line = Encoding.UTF8.GetString(stream.ToArray()).Split('\n').FirstOrDefault(l => l.StartsWith(series + " ", StringComparison.Ordinal));
        return line is null ? 0 : double.Parse(line[(series.Length + 1)..], CultureInfo.InvariantCulture);
    }
}
