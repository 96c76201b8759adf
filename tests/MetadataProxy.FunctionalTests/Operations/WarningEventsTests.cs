using System.Globalization;
using System.Text;
using k8s.Models;
using MetadataProxy.Operations;
using MetadataProxy.TestServers.Kubernetes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Prometheus;

namespace MetadataProxy.FunctionalTests.Operations;

/// <summary>Warning Events queue for one writer: a slow API server costs dropped Events (counted), never a waiting caller.</summary>
public sealed class WarningEventsTests
{
    private static readonly V1EventSource Source = new() { Component = "metadata-proxy" };

    [Fact]
    public async Task Report_WhileTheApiServerHangs_NeverWaits_AndDropsWhatTheBoundedQueueCannotHold()
    {
        await using var kube = await KubernetesTestServer.StartAsync(TestContext.Current.CancellationToken);
        kube.StallEvents();
        var registry = Metrics.NewCustomRegistry();
        using var client = new k8s.Kubernetes(kube.ClientConfiguration());
        using var events = new WarningEvents(client, new ProxyMetrics(registry), new FakeTimeProvider(), NullLogger<WarningEvents>.Instance);

        const int Reported = WarningEvents.Capacity + 50;
        for (var i = 0; i < Reported; i++)
            events.Report(Pod(i), "MetadataTokenRefused", "refused", Source);
        events.Report(Pod(0), "MetadataTokenRefused", "refused again", Source); // within the quiet period: not queued at all

        // Capacity queued, and at most one more already taken by the writer (hanging on the API server).
        var dropped = await DroppedAsync(registry);
        Assert.InRange(dropped, Reported - WarningEvents.Capacity - 1, Reported - WarningEvents.Capacity);
        Assert.Empty(kube.EventsCreated);

        kube.ResumeEvents();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (kube.EventsCreated.Count < Reported - dropped && DateTime.UtcNow < deadline)
            await Task.Delay(10, TestContext.Current.CancellationToken);
        Assert.Equal(Reported - dropped, kube.EventsCreated.Count);
        Assert.Equal(("Warning", "refused"), (kube.EventsCreated[0].Type, kube.EventsCreated[0].Message));
    }

    [Fact]
    public async Task Report_AfterItsEventWasDropped_IsQueued_TheDropStartedNoQuietPeriod()
    {
        await using var kube = await KubernetesTestServer.StartAsync(TestContext.Current.CancellationToken);
        kube.StallEvents();
        var registry = Metrics.NewCustomRegistry();
        using var client = new k8s.Kubernetes(kube.ClientConfiguration());
        using var events = new WarningEvents(client, new ProxyMetrics(registry), new FakeTimeProvider(), NullLogger<WarningEvents>.Instance);

        // One write in flight at most and Capacity queued: the last of Capacity + 2 is dropped whatever the writer took.
        const int Reported = WarningEvents.Capacity + 2;
        for (var i = 0; i < Reported; i++)
            events.Report(Pod(i), "MetadataTokenRefused", "refused", Source);
        var dropped = await DroppedAsync(registry);
        Assert.InRange(dropped, 1, 2);
        kube.ResumeEvents();
        await WaitUntilAsync(() => kube.EventsCreated.Count == Reported - dropped);
        Assert.DoesNotContain(kube.EventsCreated, e => e.InvolvedObject.Name == $"pod-{Reported - 1}");

        events.Report(Pod(Reported - 1), "MetadataTokenRefused", "refused, reported again", Source); // the clock has not moved

        await WaitUntilAsync(() => kube.EventsCreated.Any(e => e.InvolvedObject.Name == $"pod-{Reported - 1}"));
        Assert.Equal("refused, reported again", kube.EventsCreated.Single(e => e.InvolvedObject.Name == $"pod-{Reported - 1}").Message);
    }

    [Fact]
    public async Task DisposeAsync_WhenTheWriteInFlightFailsOtherwiseThanCancelled_EndsTheWriterCleanly_AndCountsWhatWasLeft()
    {
        await using var kube = await KubernetesTestServer.StartAsync(TestContext.Current.CancellationToken);
        var registry = Metrics.NewCustomRegistry();
        var logs = new RecordingLogger();
        var held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var client = new k8s.Kubernetes(kube.ClientConfiguration(), new HoldFirstRequest(held, release.Task));
        var events = new WarningEvents(client, new ProxyMetrics(registry), new FakeTimeProvider(), logs);

        for (var i = 0; i < 3; i++)
            events.Report(Pod(i), "MetadataTokenRefused", "refused", Source); // the first is taken by the writer, two wait
        await held.Task.WaitAsync(TestContext.Current.CancellationToken);

        // The host stops, as the container disposes services: the writer told to stop, then the client disposed under
        // the write still in flight, which then fails with ObjectDisposedException, not as cancelled.
        events.Dispose();
        client.Dispose();
        release.SetResult();

        await events.DisposeAsync(); // waits for the writer: a fault would be rethrown here
        Assert.Equal(2, await DroppedAsync(registry));
        Assert.Equal(["Stopping: 2 Warning Events still queued were not written"], logs.Messages);
        Assert.Empty(kube.EventsCreated);
    }

    private static V1ObjectReference Pod(int i) =>
        new() { ApiVersion = "v1", Kind = "Pod", Name = $"pod-{i}", NamespaceProperty = "apps", Uid = $"uid-{i}" };

    private static async Task<double> DroppedAsync(CollectorRegistry registry)
    {
        using var stream = new MemoryStream();
        await registry.CollectAndExportAsTextAsync(stream, TestContext.Current.CancellationToken);
        const string Series = "metadata_proxy_kubernetes_events_dropped_total";
        var line = Encoding.UTF8.GetString(stream.ToArray()).Split('\n').FirstOrDefault(l => l.StartsWith(Series + " ", StringComparison.Ordinal));
        return line is null ? 0 : double.Parse(line[(Series.Length + 1)..], CultureInfo.InvariantCulture);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
                Assert.Fail("the condition did not hold in time");
            await Task.Delay(5, TestContext.Current.CancellationToken);
        }
    }

    /// <summary>In the real client's pipeline: holds the first request, as a write that does not end at once when cancelled.</summary>
    private sealed class HoldFirstRequest(TaskCompletionSource held, Task release) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (held.TrySetResult())
                await release;
            return await base.SendAsync(request, cancellationToken);
        }
    }

    private sealed class RecordingLogger : ILogger<WarningEvents>
    {
        private readonly System.Collections.Concurrent.ConcurrentQueue<string> _messages = new();

        public IReadOnlyList<string> Messages => [.. _messages];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            _messages.Enqueue(formatter(state, exception));
    }
}
