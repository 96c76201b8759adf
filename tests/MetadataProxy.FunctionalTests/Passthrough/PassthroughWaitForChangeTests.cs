using System.Diagnostics;
using System.Text;
using MetadataProxy.FunctionalTests.Infrastructure;
using MetadataProxy.Hosting;
using MetadataProxy.TestServers.ComputeMetadata;

namespace MetadataProxy.FunctionalTests.Passthrough;

/// <summary>
/// Issue 12: long polls on the VM's values (preemption, maintenance) pass through unbuffered, outlive the request
/// budget, answer when the VM's value changes and end upstream when their caller goes away.
/// </summary>
public sealed class PassthroughWaitForChangeTests : IAsyncLifetime
{
    private static readonly TimeSpan Within = TimeSpan.FromSeconds(10);
    private ComputeMetadataTestServer _upstream = null!;
    private ProxyServer _server = null!;

    public async ValueTask InitializeAsync()
    {
        _upstream = await ComputeMetadataTestServer.StartAsync(cancellationToken: TestContext.Current.CancellationToken);
        _upstream.Set("instance/preempted", "FALSE");
        _upstream.Set("instance/maintenance-event", "NONE");
        _server = await PassthroughLab.StartProxyAsync(_upstream.BaseAddress.ToString());
    }

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    [Fact]
    public async Task WaitForChange_ThirtySecondsOnAnUpstreamValue_AnswersTheChangeAsSoonAsTheVmHasIt()
    {
        using var client = _server.CreateClient(PassthroughLab.AppCaller);
        var waiting = _upstream.NextWaitStarted;
        var answer = client.GetWithBodyAsync("/computeMetadata/v1/instance/preempted?wait_for_change=true&timeout_sec=30");

        var received = await waiting.WaitAsync(Within, TestContext.Current.CancellationToken);
        Assert.False(answer.IsCompleted);
        _upstream.Set("instance/preempted", "TRUE");
        var (response, body) = await answer.WaitAsync(Within, TestContext.Current.CancellationToken);

        Assert.Equal("/computeMetadata/v1/instance/preempted?wait_for_change=true&timeout_sec=30", received.RawTarget);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("TRUE", body);
        Assert.Equal(ComputeMetadataTestServer.ETagOf("TRUE"), response.Single("ETag"));
    }

    [Fact]
    public async Task WaitForChange_CallerGoesAway_EndsTheUpstreamRequest()
    {
        using var client = _server.CreateClient(PassthroughLab.AppCaller);
        using var caller = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var waiting = _upstream.NextWaitStarted;
        var aborted = _upstream.NextWaitAborted;
        using var request = MetadataRequests.Get("/computeMetadata/v1/instance/maintenance-event?wait_for_change=true&timeout_sec=30");
        var answer = client.SendAsync(request, caller.Token);

        await waiting.WaitAsync(Within, TestContext.Current.CancellationToken);
        await caller.CancelAsync();
        var ended = await aborted.WaitAsync(Within, TestContext.Current.CancellationToken);

        Assert.Equal("/computeMetadata/v1/instance/maintenance-event?wait_for_change=true&timeout_sec=30", ended.RawTarget);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => answer);
    }

    [Fact]
    public async Task WaitForChange_LongerThanTheRequestBudget_IsNotCutAt503()
    {
        using var client = _server.CreateClient(PassthroughLab.AppCaller);
        var watch = Stopwatch.StartNew();
        var (response, body) = await client.GetWithBodyAsync("/computeMetadata/v1/instance/preempted?wait_for_change=true&timeout_sec=4");
        watch.Stop();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("FALSE", body); // the upstream's timeout answer: the value unchanged
        Assert.True(watch.Elapsed > MetadataEndpoint.RequestBudget, $"answered after {watch.Elapsed}");
    }

    [Fact]
    public async Task Get_UpstreamBodyInParts_IsStreamedNotBuffered()
    {
        var hold = _upstream.Hold("instance/attributes/in-parts", "part-1\n", "part-2\n");
        using var client = _server.CreateClient(PassthroughLab.AppCaller);
        using var request = MetadataRequests.Get("/computeMetadata/v1/instance/attributes/in-parts");
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, TestContext.Current.CancellationToken)
            .WaitAsync(Within, TestContext.Current.CancellationToken);
        await using var stream = await response.Content.ReadAsStreamAsync(TestContext.Current.CancellationToken);

        var first = await ReadExactlyAsync(stream, hold.FirstPart.Length);
        hold.Release();
        var rest = await ReadExactlyAsync(stream, hold.Rest.Length);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(hold.FirstPart, first); // arrived while the upstream still held the rest
        Assert.Equal(hold.Rest, rest);
    }

    private static async Task<string> ReadExactlyAsync(Stream stream, int length)
    {
        var buffer = new byte[length];
        await stream.ReadExactlyAsync(buffer, TestContext.Current.CancellationToken).AsTask().WaitAsync(Within, TestContext.Current.CancellationToken);
        return Encoding.UTF8.GetString(buffer);
    }
}
