using System.Text.Json.Nodes;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace MetadataProxy.FunctionalTests.TestServers.Kubernetes;

public sealed class ListTests : KubernetesServerFixture
{
    [Fact]
    public async Task ListPodForAllNamespaces_NodeNameSelector_ReturnsOnlyThatNodesPods()
    {
        Server.AddPod(TestPods.Running("a", "one", "node-a", "10.0.0.1"));
        Server.AddPod(TestPods.Running("b", "two", "node-a", "10.0.0.2"));
        Server.AddPod(TestPods.Running("a", "three", "node-b", "10.0.1.1"));

        var list = await Client.CoreV1.ListPodForAllNamespacesAsync(fieldSelector: "spec.nodeName=node-a", cancellationToken: Ct);

        Assert.Equal(["one", "two"], list.Items.Select(p => p.Metadata.Name).Order());
    }

    [Fact]
    public async Task ListPodForAllNamespaces_PodIpSelector_MatchesTheFirstIpOnly()
    {
        Server.AddPod(TestPods.Running("a", "dual", "node-a", "10.0.0.1", "default", "fd00::1"));

        var byFirst = await Client.CoreV1.ListPodForAllNamespacesAsync(fieldSelector: "spec.nodeName=node-a,status.podIP=10.0.0.1", cancellationToken: Ct);
        var bySecond = await Client.CoreV1.ListPodForAllNamespacesAsync(fieldSelector: "status.podIP=fd00::1", cancellationToken: Ct);

        Assert.Equal("dual", Assert.Single(byFirst.Items).Metadata.Name);
        Assert.Empty(bySecond.Items);
    }

    [Fact]
    public async Task ListNamespacedPod_NameAndNotEqualSelectors_AreAnded()
    {
        Server.AddPod(TestPods.Running("a", "one", "node-a", "10.0.0.1"));
        Server.AddPod(TestPods.Running("a", "two", "node-a", "10.0.0.2"));
        Server.AddPod(TestPods.Running("b", "one", "node-a", "10.0.0.3"));

        var byName = await Client.CoreV1.ListNamespacedPodAsync("a", fieldSelector: "metadata.name=one", cancellationToken: Ct);
        var notOne = await Client.CoreV1.ListPodForAllNamespacesAsync(fieldSelector: "metadata.name!=one,metadata.namespace==a", cancellationToken: Ct);

        Assert.Equal("10.0.0.1", Assert.Single(byName.Items).Status.PodIP);
        Assert.Equal("two", Assert.Single(notOne.Items).Metadata.Name);
    }

    [Fact]
    public async Task ListPodForAllNamespaces_EmptyNodeName_MatchesUnscheduledPods()
    {
        Server.AddPod(TestPods.Running("a", "scheduled", "node-a", "10.0.0.1"));
        var pending = TestPods.Running("a", "pending", "unused", "10.0.0.2");
        pending.Spec.NodeName = null;
        pending.Status = new V1PodStatus { Phase = "Pending" };
        Server.AddPod(pending);

        var list = await Client.CoreV1.ListPodForAllNamespacesAsync(fieldSelector: "spec.nodeName=", cancellationToken: Ct);

        Assert.Equal("pending", Assert.Single(list.Items).Metadata.Name);
    }

    [Fact]
    public async Task ListPodForAllNamespaces_UnsupportedField_Returns400FieldLabelNotSupported()
    {
        var e = await Assert.ThrowsAsync<HttpOperationException>(() =>
            Client.CoreV1.ListPodForAllNamespacesAsync(fieldSelector: "spec.containers=x", cancellationToken: Ct));

        Assert.Equal(System.Net.HttpStatusCode.BadRequest, e.Response.StatusCode);
        var status = JsonNode.Parse(e.Response.Content)!;
        Assert.Equal("Status", (string?)status["kind"]);
        Assert.Equal("BadRequest", (string?)status["reason"]);
        Assert.Equal("field label not supported: spec.containers", (string?)status["message"]);
    }

    [Fact]
    public async Task ListPodForAllNamespaces_Always_CarriesTheCurrentResourceVersion()
    {
        var first = await Client.CoreV1.ListPodForAllNamespacesAsync(cancellationToken: Ct);
        var added = Server.AddPod(TestPods.Running("a", "one", "node-a", "10.0.0.1"));
        Server.AddServiceAccount(TestPods.ServiceAccount("a", "sa"));
        var second = await Client.CoreV1.ListPodForAllNamespacesAsync(cancellationToken: Ct);

        Assert.True(long.Parse(added.Metadata.ResourceVersion) > long.Parse(first.Metadata.ResourceVersion));
        Assert.True(long.Parse(second.Metadata.ResourceVersion) > long.Parse(added.Metadata.ResourceVersion));
        Assert.Equal(added.Metadata.Uid, Assert.Single(second.Items).Metadata.Uid);
    }

    [Fact]
    public async Task ListPodForAllNamespaces_OnTheWire_ItemsOmitKindAndApiVersion()
    {
        Server.AddPod(TestPods.Running("a", "one", "node-a", "10.0.0.1"));
        using var http = RawHttp.Create(Server);

        var list = JsonNode.Parse(await http.GetStringAsync("api/v1/pods", Ct))!;

        Assert.Equal("PodList", (string?)list["kind"]);
        Assert.Equal("v1", (string?)list["apiVersion"]);
        var item = list["items"]![0]!;
        Assert.Null(item["kind"]);
        Assert.Null(item["apiVersion"]);
        Assert.Equal("one", (string?)item["metadata"]!["name"]);
    }

    [Fact]
    public async Task Watch_OnTheWire_IsChunkedJsonWithOneEventPerLine()
    {
        Server.AddPod(TestPods.Running("a", "one", "node-a", "10.0.0.1"));
        Server.AddPod(TestPods.Running("a", "two", "node-a", "10.0.0.2"));
        using var http = RawHttp.Create(Server);

        using var response = await http.GetAsync("api/v1/pods?watch=1&timeoutSeconds=1", HttpCompletionOption.ResponseHeadersRead, Ct);
        var lines = (await response.Content.ReadAsStringAsync(Ct)).Split('\n', StringSplitOptions.RemoveEmptyEntries);

        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.True(response.Headers.TransferEncodingChunked);
        Assert.Equal(2, lines.Length);
        var first = JsonNode.Parse(lines[0])!;
        Assert.Equal("ADDED", (string?)first["type"]);
        Assert.Equal("Pod", (string?)first["object"]!["kind"]);
        Assert.Equal("v1", (string?)first["object"]!["apiVersion"]);
    }
}
