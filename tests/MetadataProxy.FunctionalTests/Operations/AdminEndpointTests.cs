using MetadataProxy.FunctionalTests.Conformance;
using MetadataProxy.FunctionalTests.Infrastructure;

namespace MetadataProxy.FunctionalTests.Operations;

/// <summary>The admin listener: liveness, readiness that proves the metadata path, metrics with bounded labels.</summary>
public sealed class AdminEndpointTests(ConformanceServer fixture) : IClassFixture<ConformanceServer>
{
    [Fact]
    public async Task Healthz_Is200()
    {
        var (response, body) = await Admin().GetWithBodyAsync("/healthz", flavor: false);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("ok\n", body);
    }

    [Fact]
    public async Task Readyz_Is200OnceTheMetadataListenerAnswersItsOwnPing()
    {
        await Kubernetes.KubernetesLab.WaitUntilAsync(async () => (await Admin().GetAsync("/readyz", flavor: false)).StatusCode == HttpStatusCode.OK);
        var (_, body) = await Admin().GetWithBodyAsync("/readyz", flavor: false);
        Assert.Equal("ready\n", body);
    }

    [Fact]
    public async Task Metrics_CountOutcomesWithoutAddressesOrPaths()
    {
        await fixture.Client(ConformanceServer.UnknownCaller).GetWithBodyAsync("/computeMetadata/v1/instance/attributes/kube-env");
        var (response, body) = await Admin().GetWithBodyAsync("/metrics", flavor: false);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("metadata_proxy_requests_total{outcome=\"concealed\",code=\"404\"}", body, StringComparison.Ordinal);
        Assert.DoesNotContain("127.0.0.3", body, StringComparison.Ordinal);
        Assert.DoesNotContain("kube-env", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AdminPort_DoesNotServeMetadata()
    {
        var (response, body) = await Admin().GetWithBodyAsync("/computeMetadata/v1/project/project-id");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("/healthz, /readyz and /metrics", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MetadataPort_DoesNotServeAdmin()
    {
        using var response = await fixture.Client().GetAsync("/metrics", flavor: true);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    private HttpClient Admin() => ProxyServer.CreateClient(fixture.Server.AdminUri, source: null);
}
