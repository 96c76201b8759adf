using System.Globalization;
using System.Text;
using k8s.Models;
using MetadataProxy.Operations;
using MetadataProxy.TestServers.Kubernetes;
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
}
