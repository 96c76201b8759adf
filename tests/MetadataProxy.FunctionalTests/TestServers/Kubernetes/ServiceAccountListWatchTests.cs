using System.Text.Json.Nodes;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace MetadataProxy.FunctionalTests.TestServers.Kubernetes;

/// <summary>ServiceAccount list chunking and watch, answered as the kube-apiserver answers them (the real client reads them).</summary>
public sealed class ServiceAccountListWatchTests : KubernetesServerFixture
{
    private void AddAccounts(params string[] names)
    {
        foreach (var name in names)
            Server.AddServiceAccount(new V1ServiceAccount { Metadata = new V1ObjectMeta { Name = name.Split('/')[1], NamespaceProperty = name.Split('/')[0] } });
    }

    [Fact]
    public async Task List_WithLimit_PagesInKeyOrder_EveryChunkAtTheFirstChunksResourceVersion()
    {
        AddAccounts("b/one", "a/two", "a/one");
        var first = await Client.CoreV1.ListServiceAccountForAllNamespacesAsync(limit: 2, cancellationToken: Ct);
        AddAccounts("c/later"); // after the first chunk: not in this list
        var second = await Client.CoreV1.ListServiceAccountForAllNamespacesAsync(continueParameter: first.Metadata.ContinueProperty, limit: 2, cancellationToken: Ct);

        Assert.Equal(["a/one", "a/two"], first.Items.Select(i => $"{i.Metadata.NamespaceProperty}/{i.Metadata.Name}"));
        Assert.Equal(1, first.Metadata.RemainingItemCount);
        Assert.Equal(["b/one"], second.Items.Select(i => $"{i.Metadata.NamespaceProperty}/{i.Metadata.Name}"));
        Assert.Null(second.Metadata.ContinueProperty);
        Assert.Equal(first.Metadata.ResourceVersion, second.Metadata.ResourceVersion);
    }

    [Fact]
    public async Task List_ContinueAfterCompaction_Answers410Expired()
    {
        AddAccounts("a/one", "a/two");
        var first = await Client.CoreV1.ListServiceAccountForAllNamespacesAsync(limit: 1, cancellationToken: Ct);
        Server.ExpireResourceVersions();

        var e = await Assert.ThrowsAsync<HttpOperationException>(() =>
            Client.CoreV1.ListServiceAccountForAllNamespacesAsync(continueParameter: first.Metadata.ContinueProperty, limit: 1, cancellationToken: Ct));

        Assert.Equal(HttpStatusCode.Gone, e.Response.StatusCode);
        Assert.Equal("Expired", (string?)JsonNode.Parse(e.Response.Content)!["reason"]);
    }

    [Fact]
    public async Task List_WithAForgedContinue_Answers400()
    {
        var e = await Assert.ThrowsAsync<HttpOperationException>(() =>
            Client.CoreV1.ListServiceAccountForAllNamespacesAsync(continueParameter: "not-a-token", limit: 1, cancellationToken: Ct));

        Assert.Equal(HttpStatusCode.BadRequest, e.Response.StatusCode);
        Assert.Contains("continue key is not valid", (string?)JsonNode.Parse(e.Response.Content)!["message"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Watch_FromTheListsResourceVersion_SeesAddedModifiedDeletedInOrder()
    {
        AddAccounts("a/one");
        var list = await Client.CoreV1.ListServiceAccountForAllNamespacesAsync(cancellationToken: Ct);
        AddAccounts("a/two");
        Server.UpdateServiceAccount("a", "one", sa => sa.Metadata.Annotations = new Dictionary<string, string> { ["k"] = "v" });
        Server.DeleteServiceAccount("a", "two");

        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var seen = new List<string>();
        await foreach (var (type, sa) in Client.CoreV1.WatchListServiceAccountForAllNamespacesAsync(resourceVersion: list.Metadata.ResourceVersion, cancellationToken: cts.Token))
        {
            seen.Add($"{type} {sa.Metadata.Name}");
            if (seen.Count == 3)
                break;
        }

        Assert.Equal(["Added two", "Modified one", "Deleted two"], seen);
        Assert.Equal(1, Server.ServiceAccountWatches);
    }

    [Fact]
    public async Task Watch_FromACompactedResourceVersion_EndsWithAnExpiredError()
    {
        AddAccounts("a/one");
        var list = await Client.CoreV1.ListServiceAccountForAllNamespacesAsync(cancellationToken: Ct);
        Server.ExpireResourceVersions();
        KubernetesException? error = null;

        await foreach (var _ in Client.CoreV1.WatchListServiceAccountForAllNamespacesAsync(resourceVersion: list.Metadata.ResourceVersion,
                           onError: e => error ??= e as KubernetesException, cancellationToken: Ct))
        {
            Assert.Fail("no event is expected from a too-old resourceVersion");
        }

        Assert.Equal((410, "Expired"), (error?.Status.Code, error?.Status.Reason));
    }
}
