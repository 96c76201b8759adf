using System.Text.Json.Nodes;
using k8s;
using k8s.Autorest;

namespace MetadataProxy.FunctionalTests.TestServers.Kubernetes;

public sealed class ObjectTests : KubernetesServerFixture
{
    [Fact]
    public async Task ReadNamespacedServiceAccount_Existing_ReturnsItWithAnnotations()
    {
        var sa = TestPods.ServiceAccount("apps", "builder");
        sa.Metadata.Annotations = new Dictionary<string, string> { ["iam.gke.io/gcp-service-account"] = "builder@p.iam.gserviceaccount.com" };
        var added = Server.AddServiceAccount(sa);

        var read = await Client.CoreV1.ReadNamespacedServiceAccountAsync("builder", "apps", cancellationToken: Ct);

        Assert.Equal(added.Metadata.Uid, read.Metadata.Uid);
        Assert.Equal("builder@p.iam.gserviceaccount.com", read.Metadata.Annotations["iam.gke.io/gcp-service-account"]);
        Assert.Equal(1, Server.ServiceAccountGets);
    }

    [Fact]
    public async Task ReadNamespacedServiceAccount_AfterUpdate_ReturnsTheNewState()
    {
        Server.AddServiceAccount(TestPods.ServiceAccount("apps", "builder"));
        Server.UpdateServiceAccount("apps", "builder", s => s.Metadata.Annotations = new Dictionary<string, string> { ["k"] = "v" });

        var read = await Client.CoreV1.ReadNamespacedServiceAccountAsync("builder", "apps", cancellationToken: Ct);

        Assert.Equal("v", read.Metadata.Annotations["k"]);
    }

    [Fact]
    public async Task ReadNamespacedServiceAccount_Missing_Returns404NotFoundStatus()
    {
        Server.AddServiceAccount(TestPods.ServiceAccount("apps", "gone"));
        Server.DeleteServiceAccount("apps", "gone");

        var e = await Assert.ThrowsAsync<HttpOperationException>(() => Client.CoreV1.ReadNamespacedServiceAccountAsync("gone", "apps", cancellationToken: Ct));

        Assert.Equal(HttpStatusCode.NotFound, e.Response.StatusCode);
        var status = JsonNode.Parse(e.Response.Content)!;
        Assert.Equal("NotFound", (string?)status["reason"]);
        Assert.Equal("serviceaccounts \"gone\" not found", (string?)status["message"]);
        Assert.Equal("gone", (string?)status["details"]!["name"]);
        Assert.Equal("serviceaccounts", (string?)status["details"]!["kind"]);
        Assert.Equal(404, (int?)status["code"]);
    }

    [Fact]
    public async Task ReadNode_Existing_ReturnsItsLabels()
    {
        var node = TestPods.Node("node-a");
        node.Metadata.Labels = new Dictionary<string, string> { ["topology.kubernetes.io/zone"] = "europe-west1-b" };
        Server.AddNode(node);
        Server.UpdateNode("node-a", n => n.Spec = new k8s.Models.V1NodeSpec { ProviderID = "gce://p/europe-west1-b/node-a" });

        var read = await Client.CoreV1.ReadNodeAsync("node-a", cancellationToken: Ct);

        Assert.Equal("europe-west1-b", read.Metadata.Labels["topology.kubernetes.io/zone"]);
        Assert.Equal("gce://p/europe-west1-b/node-a", read.Spec.ProviderID);
        Assert.Equal(1, Server.NodeGets);
    }

    [Fact]
    public async Task ReadNode_Missing_Returns404NotFoundStatus()
    {
        var e = await Assert.ThrowsAsync<HttpOperationException>(() => Client.CoreV1.ReadNodeAsync("nowhere", cancellationToken: Ct));

        Assert.Equal(HttpStatusCode.NotFound, e.Response.StatusCode);
        Assert.Equal("nodes \"nowhere\" not found", (string?)JsonNode.Parse(e.Response.Content)!["message"]);
    }

    [Fact]
    public async Task ReadNamespacedPod_Existing_ReturnsKindAndAssignedMetadata()
    {
        var added = Server.AddPod(TestPods.Running("a", "one", "node-a", "10.0.0.1"));

        var read = await Client.CoreV1.ReadNamespacedPodAsync("one", "a", cancellationToken: Ct);

        Assert.Equal("Pod", read.Kind);
        Assert.False(string.IsNullOrEmpty(added.Metadata.Uid));
        Assert.Equal(added.Metadata.Uid, read.Metadata.Uid);
        Assert.Equal(added.Metadata.ResourceVersion, read.Metadata.ResourceVersion);
        Assert.NotNull(read.Metadata.CreationTimestamp);
    }

    [Fact]
    public async Task Request_WithoutBearerToken_Returns401Status()
    {
        using var http = RawHttp.Create(Server, authenticated: false);

        using var response = await http.GetAsync("api/v1/pods", Ct);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var status = JsonNode.Parse(await response.Content.ReadAsStringAsync(Ct))!;
        Assert.Equal("Unauthorized", (string?)status["reason"]);
        Assert.Equal(401, (int?)status["code"]);
    }

    [Fact]
    public async Task Request_WrongBearerToken_ClientGets401()
    {
        using var client = new k8s.Kubernetes(new KubernetesClientConfiguration { Host = Server.BaseAddress.AbsoluteUri, AccessToken = "wrong" });

        var e = await Assert.ThrowsAsync<HttpOperationException>(() => client.CoreV1.ListPodForAllNamespacesAsync(cancellationToken: Ct));

        Assert.Equal(HttpStatusCode.Unauthorized, e.Response.StatusCode);
    }

    [Fact]
    public async Task Request_UnknownPath_Returns404Status()
    {
        using var http = RawHttp.Create(Server);

        using var response = await http.GetAsync("api/v1/namespaces/a/configmaps/x", Ct);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("NotFound", (string?)JsonNode.Parse(await response.Content.ReadAsStringAsync(Ct))!["reason"]);
    }

    [Fact]
    public async Task WriteKubeconfig_LoadedByTheClient_ReachesTheServer()
    {
        var path = Server.WriteKubeconfig(Path.Combine(Path.GetTempPath(), $"kubeconfig-{Guid.NewGuid():N}"));
        try
        {
            using var client = new k8s.Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(path));
            Server.AddPod(TestPods.Running("a", "one", "node-a", "10.0.0.1"));

            var list = await client.CoreV1.ListPodForAllNamespacesAsync(cancellationToken: Ct);

            Assert.Equal("one", Assert.Single(list.Items).Metadata.Name);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
