using MetadataProxy.FunctionalTests.Infrastructure;

namespace MetadataProxy.FunctionalTests.Kubernetes;

/// <summary>Issue 3, item 5: instance values from configuration, falling back to the Node object.</summary>
public sealed class KubernetesMetadataTests(KubernetesLab lab) : IClassFixture<KubernetesLab>
{
    [Theory]
    [InlineData("/computeMetadata/v1/instance/zone", "projects/123456789012/zones/us-central1-b")]
    [InlineData("/computeMetadata/v1/instance/name", KubernetesLab.NodeName)]
    [InlineData("/computeMetadata/v1/instance/hostname", "node-a.example.internal")]
    [InlineData("/computeMetadata/v1/project/project-id", Fixture.ProjectId)]
    [InlineData("/computeMetadata/v1/project/numeric-project-id", KubernetesLab.ProjectNumber)]
    [InlineData("/computeMetadata/v1/instance/attributes/cluster-name", Fixture.ClusterName)]
    public async Task InstanceValues_ComeFromConfigurationThenTheNode(string path, string expected)
    {
        await KubernetesLab.WaitUntilAsync(async () =>
        {
            var (response, body) = await lab.Client("127.0.0.70").GetWithBodyAsync(path);
            return response.StatusCode == HttpStatusCode.OK && body == expected;
        });
    }

    [Fact]
    public async Task ServiceAccountListing_OfAnUnknownCaller_IsRefusedNotEmpty()
    {
        var (response, _) = await lab.Client("127.0.0.71").GetWithBodyAsync("/computeMetadata/v1/instance/service-accounts/");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
    }

    [Fact]
    public async Task Ready_RemovesOnlyTheStartupTaintFromItsNode()
    {
        await KubernetesLab.WaitUntilAsync(() => Task.FromResult(
            lab.Kube.GetNode(KubernetesLab.NodeName)!.Spec.Taints?.All(t => t.Key != "metadataproxy.io/agent-not-ready") == true));
        var taint = Assert.Single(lab.Kube.GetNode(KubernetesLab.NodeName)!.Spec.Taints!);
        Assert.Equal("example.com/dedicated", taint.Key);
        Assert.Equal("ml", taint.Value);
        Assert.Equal(1, lab.Kube.NodePatches);
    }

    [Fact]
    public async Task Readiness_IsReadyOnceThePodIndexIsSynced()
    {
        using var admin = new HttpClient { BaseAddress = lab.Proxy.AdminUri };
        using var ready = await admin.GetAsync("/readyz", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
    }
}
