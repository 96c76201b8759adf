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

    [Theory]
    [InlineData("127.0.0.72")] // no pod at all
    [InlineData("127.0.0.250")] // the node itself
    public async Task R_3_RootRecursiveOfACallerNotKnown_AnswersAtOnceWithoutServiceAccounts(string caller)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var (response, body) = await lab.Client(caller).GetWithBodyAsync("/computeMetadata/v1/?recursive=true");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"the probe waited {clock.Elapsed}"); // gax allows 500 ms a try
        using var json = System.Text.Json.JsonDocument.Parse(body);
        Assert.Equal(Fixture.ProjectId, json.RootElement.GetProperty("project").GetProperty("projectId").GetString());
        Assert.Empty(json.RootElement.GetProperty("instance").GetProperty("serviceAccounts").EnumerateObject());
    }

    [Fact]
    public async Task R_3_RootRecursiveOfAKnownPod_ShowsItsServiceAccount()
    {
        lab.AddPod("meta", "probe", "127.0.0.73", "probe", gsa: "probe@test-project.iam.gserviceaccount.com");
        await KubernetesLab.WaitUntilAsync(async () =>
        {
            var (response, body) = await lab.Client("127.0.0.73").GetWithBodyAsync("/computeMetadata/v1/?recursive=true");
            return response.StatusCode == HttpStatusCode.OK && body.Contains("\"serviceAccounts\":{\"default\":{\"aliases\":[\"default\"],\"email\":\"probe@test-project.iam.gserviceaccount.com\"", StringComparison.Ordinal);
        });
    }

    [Fact]
    public async Task Readiness_IsReadyOnceThePodIndexIsSynced()
    {
        using var admin = new HttpClient { BaseAddress = lab.Proxy.AdminUri };
        using var ready = await admin.GetAsync("/readyz", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
    }
}
