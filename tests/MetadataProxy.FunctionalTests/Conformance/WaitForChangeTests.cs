using System.Diagnostics;
using MetadataProxy.FunctionalTests.Infrastructure;
using MetadataProxy.Metadata;
using Microsoft.Extensions.DependencyInjection;

namespace MetadataProxy.FunctionalTests.Conformance;

/// <summary>Spec §5: <c>wait_for_change</c>, driven by real configuration reloads on a server of its own.</summary>
public sealed class WaitForChangeTests : IAsyncLifetime
{
    private const string ClusterNamePath = "/computeMetadata/v1/instance/attributes/cluster-name";
    private ProxyServer _server = null!;

    public async ValueTask InitializeAsync() => _server = await ProxyServer.StartAsync(Fixture.MetadataSettings());

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task W_2_WaitForChange_ReturnsTheNewValueWithANewETag()
    {
        using var client = _server.CreateClient();
        using var before = await client.GetAsync(ClusterNamePath, flavor: true);
        var waiting = client.GetWithBodyAsync(ClusterNamePath + "?wait_for_change=true");
        await AssertStillWaitingAsync(waiting);

        _server.Reconfigure("Metadata:ClusterName", "renamed-cluster");
        var (response, body) = await waiting.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("renamed-cluster", body);
        Assert.NotEqual(before.Single("ETag"), response.Single("ETag"));
    }

    [Fact]
    public async Task W_3_CurrentLastETag_Waits()
    {
        using var client = _server.CreateClient();
        using var before = await client.GetAsync(ClusterNamePath, flavor: true);
        var waiting = client.GetWithBodyAsync($"{ClusterNamePath}?wait_for_change=true&last_etag={before.Single("ETag")}");
        await AssertStillWaitingAsync(waiting);

        _server.Reconfigure("Metadata:ClusterName", "second-name");
        var (_, body) = await waiting.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        Assert.Equal("second-name", body);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("0123456789abcdef")]
    public async Task W_4_StaleLastETag_AnswersAtOnce(string lastETag)
    {
        using var client = _server.CreateClient();
        var (response, body) = await client.GetWithBodyAsync($"{ClusterNamePath}?wait_for_change=true&last_etag={lastETag}&timeout_sec=30")
            .WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Fixture.ClusterName, body);
    }

    [Fact]
    public async Task W_5_TimeoutWithoutChange_ReturnsTheUnchangedValue()
    {
        using var client = _server.CreateClient();
        var clock = Stopwatch.StartNew();
        var (response, body) = await client.GetWithBodyAsync($"{ClusterNamePath}?wait_for_change=true&timeout_sec=1");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Fixture.ClusterName, body);
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(0.9), $"answered after {clock.Elapsed}");
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("-1")]
    [InlineData("1.5")]
    public async Task W_6_NonIntegerTimeout_Is400(string timeout)
    {
        using var client = _server.CreateClient();
        var (response, body) = await client.GetWithBodyAsync($"{ClusterNamePath}?wait_for_change=true&timeout_sec={timeout}");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("timeout_sec", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task W_7_WaitOnDirectoryListing_Is400()
    {
        using var client = _server.CreateClient();
        using var response = await client.GetAsync("/computeMetadata/v1/project/?wait_for_change=true", flavor: true);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task W_8_RecursiveDirectoryWait_ReturnsTheWholeMapOnDeletion()
    {
        using var client = _server.CreateClient();
        var waiting = client.GetWithBodyAsync("/computeMetadata/v1/instance/attributes/?recursive=true&wait_for_change=true");
        await AssertStillWaitingAsync(waiting);

        _server.Reconfigure("Metadata:ClusterUid", null);
        var (response, body) = await waiting.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal($"{{\"cluster-location\":\"{Fixture.ClusterLocation}\",\"cluster-name\":\"{Fixture.ClusterName}\"}}", body);
    }

    [Fact]
    public async Task W_9_ValueDeletedWhileWaiting_Is404()
    {
        using var client = _server.CreateClient();
        var waiting = client.GetWithBodyAsync("/computeMetadata/v1/instance/attributes/cluster-location?wait_for_change=true");
        await AssertStillWaitingAsync(waiting);

        _server.Reconfigure("Metadata:ClusterLocation", null);
        var (response, _) = await waiting.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task W_10_HangingWaits_DoNotBlockOtherRequests()
    {
        var waits = Enumerable.Range(0, 30).Select(_ =>
        {
            var client = _server.CreateClient();
            return client.GetWithBodyAsync($"{ClusterNamePath}?wait_for_change=true");
        }).ToList();
        await AssertStillWaitingAsync(Task.WhenAny(waits), waits.Count);

        using var other = _server.CreateClient();
        var (response, body) = await other.GetWithBodyAsync("/computeMetadata/v1/project/project-id")
            .WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);
        Assert.Equal(Fixture.ProjectId, body);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        _server.Reconfigure("Metadata:ClusterName", "released");
        var answers = await Task.WhenAll(waits).WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        Assert.All(answers, a => Assert.Equal("released", a.Body));
    }

    [Fact]
    public async Task InvalidReload_IsIgnored_AndTheLastValidValuesServe()
    {
        using var client = _server.CreateClient();
        _server.Reconfigure("Metadata:ProjectId", "Not A Valid Project");
        var (response, body) = await client.GetWithBodyAsync("/computeMetadata/v1/project/project-id");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Fixture.ProjectId, body);

        _server.Reconfigure("Metadata:ProjectId", "fixed-project");
        var (_, fixedBody) = await client.GetWithBodyAsync("/computeMetadata/v1/project/project-id");
        Assert.Equal("fixed-project", fixedBody);
    }

    [Fact]
    public async Task W_10_OneCallerPastItsShareOfHangingRequests_Gets429WithAReason()
    {
        var waits = Enumerable.Range(0, 32).Select(_ => _server.CreateClient().GetWithBodyAsync($"{ClusterNamePath}?wait_for_change=true")).ToList();
        await AssertStillWaitingAsync(Task.WhenAny(waits), waits.Count);

        var (refused, body) = await _server.CreateClient().GetWithBodyAsync($"{ClusterNamePath}?wait_for_change=true")
            .WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);
        Assert.Equal((HttpStatusCode)429, refused.StatusCode);
        Assert.Contains("More than 32 wait_for_change requests from 127.0.0.1", body, StringComparison.Ordinal);

        // Another caller is not affected.
        using var other = _server.CreateClient(IPAddress.Parse("127.0.0.9"));
        var (otherResponse, otherBody) = await other.GetWithBodyAsync($"{ClusterNamePath}?wait_for_change=true&timeout_sec=0");
        Assert.Equal(HttpStatusCode.OK, otherResponse.StatusCode);
        Assert.Equal(Fixture.ClusterName, otherBody);

        _server.Reconfigure("Metadata:ClusterName", "released");
        await Task.WhenAll(waits).WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task TK_8_WaitForChangeOnToken_Is400()
    {
        using var client = _server.CreateClient();
        using var response = await client.GetAsync("/computeMetadata/v1/instance/service-accounts/default/token?wait_for_change=true", flavor: true);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    /// <summary>
    /// The server holds <paramref name="count"/> waits parked on the next change (its own count, polled: no time
    /// window), and none of them has been answered.
    /// </summary>
    private async Task AssertStillWaitingAsync(Task waiting, int count = 1)
    {
        var metadata = _server.Services.GetRequiredService<MetadataService>();
        await Kubernetes.KubernetesLab.WaitUntilAsync(() => Task.FromResult(metadata.ParkedWaits >= count || waiting.IsCompleted));
        Assert.False(waiting.IsCompleted, "the wait_for_change request answered before any change");
        Assert.Equal(count, metadata.ParkedWaits);
    }
}
