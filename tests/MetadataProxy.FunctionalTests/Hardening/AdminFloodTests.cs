using MetadataProxy.FunctionalTests.Infrastructure;

namespace MetadataProxy.FunctionalTests.Hardening;

/// <summary>
/// Issue 9, row 2: pods flooding the admin port cannot lock the kubelet's probes out, and readiness proves that the
/// metadata listener accepts a new connection.
/// </summary>
public sealed class AdminFloodTests
{
    [Fact]
    public async Task AdminFloodFromOnePod_ProbesStillAnswer()
    {
        await using var lab = await HardenedServer.StartAsync();
        using var flood = await Flood.OpenAsync(lab.Server.AdminUri, HardenedServer.Attacker, HardenedServer.MaxConnections + 36);
        await Kubernetes.KubernetesLab.WaitUntilAsync(async () =>
            await lab.MetricAsync("metadata_proxy_connections_refused_total{listener=\"admin\",reason=\"source_full\"}")
                == flood.Count - HardenedServer.AdminMaxConnectionsPerSource);

        using var probe = lab.Admin(IPAddress.Parse("127.0.0.5"));
        var (response, body) = await probe.GetWithBodyAsync("/healthz", flavor: false);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("ok\n", body);
    }

    [Fact]
    public async Task AdminFloodFromManyPods_TheNodesOwnProbesStillAnswer()
    {
        await using var lab = await HardenedServer.StartAsync();
        var floods = new List<Flood>();
        try
        {
            // Enough sources, each within its cap, to fill the admin listener.
            for (var i = 0; i < HardenedServer.MaxConnections / HardenedServer.AdminMaxConnectionsPerSource + 2; i++)
                floods.Add(await Flood.OpenAsync(lab.Server.AdminUri, IPAddress.Parse($"127.0.1.{i + 1}"), HardenedServer.AdminMaxConnectionsPerSource));
            await Kubernetes.KubernetesLab.WaitUntilAsync(async () =>
                await lab.MetricAsync("metadata_proxy_connections_refused_total{listener=\"admin\",reason=\"listener_full\"}") > 0);

            // The kubelet dials the address the server listens on from that same address (the node's): never refused for the pods' sake.
            using var kubelet = lab.Admin(IPAddress.Loopback);
            Assert.Equal(HttpStatusCode.OK, (await kubelet.GetAsync("/healthz", flavor: false)).StatusCode);
            using var pod = lab.Admin(IPAddress.Parse("127.0.2.1"));
            var (refused, body) = await pod.GetWithBodyAsync("/healthz", flavor: false);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            Assert.Equal($"The admin listener holds its maximum of {HardenedServer.MaxConnections} connections; retry shortly.\n", body);
        }
        finally
        {
            floods.ForEach(f => f.Dispose());
        }
    }

    [Fact]
    public async Task Readiness_FailsWhileTheMetadataListenerRefusesNewConnections_AndRecovers()
    {
        await using var lab = await HardenedServer.StartAsync();
        using var admin = lab.Admin();
        await Kubernetes.KubernetesLab.WaitUntilAsync(async () => (await admin.GetAsync("/readyz", flavor: false)).StatusCode == HttpStatusCode.OK);

        var first = await Flood.OpenAsync(lab.Server.MetadataUri, IPAddress.Parse("127.0.0.10"), HardenedServer.MaxConnectionsPerSource);
        var second = await Flood.OpenAsync(lab.Server.MetadataUri, IPAddress.Parse("127.0.0.11"), HardenedServer.MaxConnectionsPerSource);
        string body;
        try
        {
            // A check runs every 10 s while ready; a pooled connection would keep passing it.
            await Kubernetes.KubernetesLab.WaitUntilAsync(async () => (await admin.GetAsync("/readyz", flavor: false)).StatusCode == HttpStatusCode.ServiceUnavailable, seconds: 15);
            (_, body) = await admin.GetWithBodyAsync("/readyz", flavor: false);
        }
        finally
        {
            first.Dispose();
            second.Dispose();
        }

        Assert.Contains("answered 503", body, StringComparison.Ordinal);
        await Kubernetes.KubernetesLab.WaitUntilAsync(async () => (await admin.GetAsync("/readyz", flavor: false)).StatusCode == HttpStatusCode.OK);
    }
}
