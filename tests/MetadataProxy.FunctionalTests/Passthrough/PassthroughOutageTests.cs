using System.Net.Sockets;
using MetadataProxy.FunctionalTests.Infrastructure;
using MetadataProxy.FunctionalTests.Kubernetes;
using MetadataProxy.Hosting;
using MetadataProxy.TestServers.ComputeMetadata;

namespace MetadataProxy.FunctionalTests.Passthrough;

/// <summary>Issue 12: a slow or absent VM metadata server costs allowed paths a clear 503 in time, and local paths nothing.</summary>
public sealed class PassthroughOutageTests
{
    [Fact]
    public async Task Get_AllowedPath_WhenTheUpstreamWentAway_Answers503AndLocalPathsStillAnswer()
    {
        var upstream = await ComputeMetadataTestServer.StartAsync(cancellationToken: TestContext.Current.CancellationToken);
        upstream.Set("instance/machine-type", "e2");
        await using var server = await PassthroughLab.StartProxyAsync(upstream.BaseAddress.ToString());
        await upstream.DisposeAsync();
        using var client = server.CreateClient(PassthroughLab.AppCaller);

        var (allowed, message) = await client.GetWithBodyAsync("/computeMetadata/v1/instance/machine-type");
        var (local, zone) = await client.GetWithBodyAsync("/computeMetadata/v1/instance/zone");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, allowed.StatusCode);
        Assert.Contains("The VM metadata server is unreachable; retry shortly.", message, StringComparison.Ordinal);
        Assert.Equal("1", allowed.Single("Retry-After"));
        Assert.Equal("Google", allowed.Single("Metadata-Flavor"));
        Assert.Equal(HttpStatusCode.OK, local.StatusCode);
        Assert.Equal(Fixture.Zone, zone);
        Assert.Contains("metadata_proxy_upstream_requests_total{outcome=\"unreachable\"} 1", await PassthroughLab.MetricsAsync(server), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Get_AllowedPath_WhenTheUpstreamIsSlow_Answers503WhenTheRequestBudgetRunsOutOnTheServersClock()
    {
        await using var upstream = await ComputeMetadataTestServer.StartAsync(cancellationToken: TestContext.Current.CancellationToken);
        upstream.Set("instance/machine-type", "e2");
        var clock = new RecordingClock();
        await using var server = await PassthroughLab.StartProxyAsync(upstream.BaseAddress.ToString(), time: clock);
        upstream.Latency = TimeSpan.FromSeconds(20);
        using var client = server.CreateClient(PassthroughLab.AppCaller);

        var answer = client.GetWithBodyAsync("/computeMetadata/v1/instance/machine-type");
        // Forwarded and parked on its budget: the upstream holds the request, and the budget's timer is on the clock.
        await KubernetesLab.WaitUntilAsync(() => Task.FromResult(
            upstream.Received.Any(r => r.RawTarget.EndsWith("/instance/machine-type", StringComparison.Ordinal))
            && clock.DueTimes.Contains(MetadataEndpoint.RequestBudget)));
        clock.Advance(MetadataEndpoint.RequestBudget - TimeSpan.FromMilliseconds(1));
        Assert.False(answer.IsCompleted, "answered before the budget ran out");
        clock.Advance(TimeSpan.FromMilliseconds(1));
        var (response, message) = await answer;

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Contains("did not answer within 2.8 s", message, StringComparison.Ordinal);
        Assert.Equal("1", response.Single("Retry-After"));
        // The server's clock ended it, not a real timer: nothing came at budget - 1 ms, and YARP's own real-time silence
        // limit is 30 s, far behind (it was the same 2.8 s, which made this test depend on how fast the machine was).
        Assert.Contains("metadata_proxy_upstream_requests_total{outcome=\"timeout\"} 1", await PassthroughLab.MetricsAsync(server), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RecursiveListing_WhenTheUpstreamCutsItsAnswerMidBody_IsTheLocalListing()
    {
        await using var upstream = await ComputeMetadataTestServer.StartAsync(cancellationToken: TestContext.Current.CancellationToken);
        upstream.Set("instance/machine-type", "e2");
        await using var server = await PassthroughLab.StartProxyAsync(upstream.BaseAddress.ToString());
        upstream.CutBodies = true;
        using var client = server.CreateClient(PassthroughLab.AppCaller);

        var (response, body) = await client.GetWithBodyAsync("/computeMetadata/v1/instance/?recursive=true");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var listing = System.Text.Json.Nodes.JsonNode.Parse(body)!.AsObject();
        Assert.Equal(Fixture.Zone, (string?)listing["zone"]);
        Assert.False(listing.ContainsKey("machineType"), body);
        var metrics = await PassthroughLab.MetricsAsync(server);
        // Cut before or after the headers were read: counted as one or the other, answered the same.
        Assert.True(metrics.Contains("metadata_proxy_upstream_requests_total{outcome=\"unreachable\"} 1", StringComparison.Ordinal)
                    ^ metrics.Contains("metadata_proxy_upstream_requests_total{outcome=\"broken\"} 1", StringComparison.Ordinal),
            string.Join("\n", metrics.Split('\n').Where(l => l.StartsWith("metadata_proxy_upstream", StringComparison.Ordinal))));
    }

    [Fact]
    public async Task Start_WithTheUpstreamUnreachable_StartsAndFailsClosedOnAllowedPathsOnly()
    {
        // Bound, never listening, and kept for the whole test: connections are refused, and no test running in parallel
        // can take the port meanwhile (a port closed again could be bound by any of them and answer).
        using var closed = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        closed.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, false);
        closed.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var port = ((IPEndPoint)closed.LocalEndPoint!).Port;

        await using var server = await PassthroughLab.StartProxyAsync($"http://127.0.0.1:{port}");
        using var client = server.CreateClient(PassthroughLab.AppCaller);
        var (allowed, message) = await client.GetWithBodyAsync("/computeMetadata/v1/instance/machine-type");
        var (local, id) = await client.GetWithBodyAsync("/computeMetadata/v1/instance/id");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, allowed.StatusCode);
        Assert.Contains("The VM metadata server has not answered yet; retry shortly.", message, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, local.StatusCode);
        Assert.Equal(Fixture.InstanceId, id);
        Assert.Contains("metadata_proxy_upstream_requests_total{outcome=\"unchecked\"} 1", await PassthroughLab.MetricsAsync(server), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Get_AllowedPath_WithPassthroughOff_IsNeverForwarded()
    {
        await using var upstream = await ComputeMetadataTestServer.StartAsync(cancellationToken: TestContext.Current.CancellationToken);
        upstream.Set("instance/machine-type", "e2");
        await using var server = await PassthroughLab.StartProxyAsync(upstream.BaseAddress.ToString(), new Dictionary<string, string?> { ["Upstream:Mode"] = "Off" });
        using var client = server.CreateClient(PassthroughLab.AppCaller);

        var (response, _) = await client.GetWithBodyAsync("/computeMetadata/v1/instance/machine-type");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Empty(upstream.Received);
        Assert.Null(response.Single("Metadata-Proxy-Instance"));
    }
}
