using MetadataProxy.FunctionalTests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace MetadataProxy.FunctionalTests.Hardening;

/// <summary>Issue 9, row 1: one pod's idle or slowloris connections cannot take the metadata listener from the others.</summary>
public sealed class ConnectionFloodTests
{
    private const string RefusedFromOneSource = "metadata_proxy_connections_refused_total{listener=\"metadata\",reason=\"source_full\"}";

    [Fact]
    public async Task IdleFloodFromOnePod_OtherPodStillGetsItsCachedToken()
    {
        await using var lab = await HardenedServer.StartAsync();
        var (warmStatus, cached) = await lab.VictimTokenAsync();
        Assert.Equal(HttpStatusCode.OK, warmStatus);

        // More than the whole listener accepts: without a per-source cap, nobody else would get in.
        using var flood = await Flood.OpenAsync(lab.Server.MetadataUri, HardenedServer.Attacker, HardenedServer.MaxConnections + 36);
        await Kubernetes.KubernetesLab.WaitUntilAsync(async () =>
            await lab.MetricAsync(RefusedFromOneSource) == flood.Count - HardenedServer.MaxConnectionsPerSource);

        var (status, body) = await lab.VictimTokenAsync();
        Assert.Equal(HttpStatusCode.OK, status);
        // From the cache: the flood cost nobody a Google call (expires_in counts down, so compare the token itself).
        Assert.Equal(AccessToken(cached), AccessToken(body));
        Assert.Equal(HardenedServer.MaxConnectionsPerSource, await lab.MetricAsync("metadata_proxy_connections_open{listener=\"metadata\"}"));
    }

    [Fact]
    public async Task IssueScale_1500IdleConnectionsWithDefaultLimits_OtherPodStillGetsItsCachedToken()
    {
        await using var lab = await HardenedServer.StartAsync(new Dictionary<string, string?>
        {
            ["Listen:MaxConnections"] = null, // the defaults: 4096 per listener, 128 per source
            ["Listen:MaxConnectionsPerSource"] = null,
        });
        var (_, cached) = await lab.VictimTokenAsync();

        using var flood = await Flood.OpenAsync(lab.Server.MetadataUri, HardenedServer.Attacker, 1500);
        await Kubernetes.KubernetesLab.WaitUntilAsync(async () => await lab.MetricAsync(RefusedFromOneSource) == 1500 - 128, seconds: 30);

        var (status, body) = await lab.VictimTokenAsync();
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(AccessToken(cached), AccessToken(body));
    }

    [Fact]
    public async Task ConnectionOverTheSourcesCap_Is503SayingWhy()
    {
        await using var lab = await HardenedServer.StartAsync();
        using var flood = await Flood.OpenAsync(lab.Server.MetadataUri, HardenedServer.Attacker, HardenedServer.MaxConnectionsPerSource);
        await Kubernetes.KubernetesLab.WaitUntilAsync(async () =>
            await lab.MetricAsync("metadata_proxy_connections_open{listener=\"metadata\"}") == HardenedServer.MaxConnectionsPerSource);

        using var client = lab.Server.CreateClient(HardenedServer.Attacker);
        var (response, body) = await client.GetWithBodyAsync("/computeMetadata/v1/project/project-id");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("Google", response.Single("Metadata-Flavor"));
        Assert.Equal("1", response.Single("Retry-After"));
        Assert.Equal($"Too many connections from {HardenedServer.Attacker}: at most {HardenedServer.MaxConnectionsPerSource} at once; close idle connections and retry.\n", body);
        Assert.Equal(1, await lab.MetricAsync(RefusedFromOneSource));
    }

    [Fact]
    public async Task ListenerFull_NewSourceIs503_AndCounted()
    {
        // A clock that stands still: the readiness check pings the metadata listener at start and then every 10 s on the
        // server's clock, over a connection of its own that takes one of the listener's slots for a moment. One that the
        // floods met and that closed after them left a free slot for the new source (seen once in CI: 200, not 503).
        await using var lab = await HardenedServer.StartAsync(time: new FakeTimeProvider(DateTimeOffset.UtcNow));
        await Kubernetes.KubernetesLab.WaitUntilAsync(async () => await lab.MetricAsync("metadata_proxy_connections_open{listener=\"metadata\"}") == 0);
        using var first = await Flood.OpenAsync(lab.Server.MetadataUri, IPAddress.Parse("127.0.0.10"), HardenedServer.MaxConnectionsPerSource);
        using var second = await Flood.OpenAsync(lab.Server.MetadataUri, IPAddress.Parse("127.0.0.11"), HardenedServer.MaxConnectionsPerSource);
        await Kubernetes.KubernetesLab.WaitUntilAsync(async () =>
            await lab.MetricAsync("metadata_proxy_connections_refused_total{listener=\"metadata\",reason=\"listener_full\"}") == 2 * HardenedServer.MaxConnectionsPerSource - HardenedServer.MaxConnections);

        using var client = lab.Server.CreateClient(IPAddress.Parse("127.0.0.12"));
        var (response, body) = await client.GetWithBodyAsync("/computeMetadata/v1/project/project-id");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal($"The metadata listener holds its maximum of {HardenedServer.MaxConnections} connections; retry shortly.\n", body);
    }

    [Fact]
    public async Task SlowlorisConnections_AreClosedAfterTheHeadersTimeout()
    {
        await using var lab = await HardenedServer.StartAsync(new Dictionary<string, string?> { ["Listen:RequestHeadersTimeout"] = "00:00:01" });
        using var flood = await Flood.OpenAsync(lab.Server.MetadataUri, HardenedServer.Attacker, HardenedServer.MaxConnectionsPerSource,
            prefix: "GET /computeMetadata/v1/project/project-id HTTP/1.1\r\nHost: metadata\r\nMetadata-Fla");

        // Kestrel checks its timeouts once a second: 1 s of headers plus that tick, well inside 30 s, Kestrel's default.
        Assert.Equal(flood.Count, await flood.ClosedByServerAsync(TimeSpan.FromSeconds(8)));
        var (status, _) = await lab.VictimTokenAsync();
        Assert.Equal(HttpStatusCode.OK, status);
    }

    [Fact]
    public async Task IdleKeepAliveConnections_AreClosedAfterTheKeepAliveTimeout()
    {
        await using var lab = await HardenedServer.StartAsync(new Dictionary<string, string?> { ["Listen:KeepAliveTimeout"] = "00:00:01" });
        using var flood = await Flood.OpenAsync(lab.Server.MetadataUri, HardenedServer.Attacker, 10,
            prefix: "GET /computeMetadata/v1/project/project-id HTTP/1.1\r\nHost: metadata\r\nMetadata-Flavor: Google\r\n\r\n");

        Assert.Equal(flood.Count, await flood.ClosedByServerAsync(TimeSpan.FromSeconds(8))); // not the 130 s a pool of idle sockets lived before
    }

    private static string? AccessToken(string tokenJson)
    {
        using var json = System.Text.Json.JsonDocument.Parse(tokenJson);
        return json.RootElement.GetProperty("access_token").GetString();
    }
}
