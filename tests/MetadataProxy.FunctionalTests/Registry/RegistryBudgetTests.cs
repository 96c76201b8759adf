using MetadataProxy.FunctionalTests.Infrastructure;
using MetadataProxy.FunctionalTests.Kubernetes;
using MetadataProxy.Registry;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace MetadataProxy.FunctionalTests.Registry;

/// <summary>
/// The node socket's registry budget (6 s, inside the plugin's 10 s) runs on the server's clock: whatever the request
/// waits on, the plugin gets a retryable 503 that says why when that clock says the budget is spent, and not before.
/// The endpoint is the lab's own, built from its services with a fake clock (the whole server cannot start on one:
/// its start waits on that clock too).
/// </summary>
public sealed class RegistryBudgetTests(RegistryLab registry) : IClassFixture<RegistryLab>
{
    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(6);

    [Fact]
    public async Task PodToken_WhoseBodyStalls_Is503WhenTheBudgetRunsOutOnTheServersClock()
    {
        var clock = new RecordingClock();
        var endpoint = ActivatorUtilities.CreateInstance<RegistryEndpoint>(registry.Lab.Proxy.Services, clock);
        var context = new DefaultHttpContext { RequestServices = registry.Lab.Proxy.Services };
        context.Request.Method = "POST";
        context.Request.Path = "/registry/v1/pod-token";
        context.Request.Headers["Metadata-Flavor"] = "Google";
        context.Request.ContentLength = 64;
        await using var stalled = new StalledStream();
        context.Request.Body = stalled;
        using var answer = new MemoryStream();
        context.Response.Body = answer;
        var before = await registry.Lab.MetricAsync(Refusals);

        var running = endpoint.InvokeAsync(context);
        await KubernetesLab.WaitUntilAsync(() => Task.FromResult(stalled.Reading && clock.DueTimes.Contains(Budget)));
        clock.Advance(Budget - TimeSpan.FromMilliseconds(1));
        Assert.False(running.IsCompleted, "answered before the budget ran out");
        clock.Advance(TimeSpan.FromMilliseconds(1));
        await running.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        Assert.Equal(StatusCodes.Status503ServiceUnavailable, context.Response.StatusCode);
        Assert.Equal("The credential took longer than 6 s; retry shortly.\n", System.Text.Encoding.UTF8.GetString(answer.ToArray()));
        Assert.Equal("1", context.Response.Headers.RetryAfter.ToString());
        Assert.Equal(before + 1, await registry.Lab.MetricAsync(Refusals));
    }

    private const string Refusals = "metadata_proxy_registry_credentials_total{path=\"pod\",outcome=\"upstream_unavailable\"}";

    /// <summary>A request body that never arrives: a read waits until the request is given up.</summary>
    private sealed class StalledStream : Stream
    {
        private volatile bool _reading;

        public bool Reading => _reading;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            _reading = true;
            await Task.Delay(Timeout.Infinite, cancellationToken);
            return 0;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
