using System.Text.Json.Nodes;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace MetadataProxy.FunctionalTests.TestServers.Kubernetes;

/// <summary>The writes the pull-secret controller makes, answered as the kube-apiserver answers them (the real client reads them).</summary>
public sealed class SecretAndLeaseTests : KubernetesServerFixture
{
    private static V1Secret Secret(string name) => new()
    {
        Metadata = new V1ObjectMeta { Name = name },
        Type = "kubernetes.io/dockerconfigjson",
        Data = new Dictionary<string, byte[]> { [".dockerconfigjson"] = "{\"auths\":{}}"u8.ToArray() },
    };

    [Fact]
    public async Task CreateSecret_TwiceByName_Answers201ThenAlreadyExists409()
    {
        var created = await Client.CoreV1.CreateNamespacedSecretAsync(Secret("pull"), "apps", cancellationToken: Ct);
        var e = await Assert.ThrowsAsync<HttpOperationException>(() => Client.CoreV1.CreateNamespacedSecretAsync(Secret("pull"), "apps", cancellationToken: Ct));

        Assert.False(string.IsNullOrEmpty(created.Metadata.Uid));
        Assert.Equal(("v1", "Secret", "apps"), (created.ApiVersion, created.Kind, created.Metadata.NamespaceProperty));
        Assert.Equal(HttpStatusCode.Conflict, e.Response.StatusCode);
        var status = JsonNode.Parse(e.Response.Content)!;
        Assert.Equal(("AlreadyExists", "secrets \"pull\" already exists"), ((string?)status["reason"], (string?)status["message"]));
    }

    [Fact]
    public async Task CreateSecret_DockerConfigJsonWithoutItsKey_Answers422()
    {
        var secret = Secret("pull");
        secret.Data = new Dictionary<string, byte[]>();

        var e = await Assert.ThrowsAsync<HttpOperationException>(() => Client.CoreV1.CreateNamespacedSecretAsync(secret, "apps", cancellationToken: Ct));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, e.Response.StatusCode);
        Assert.Contains("data[.dockerconfigjson]: Required value", e.Response.Content, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReplaceSecret_WithAStaleResourceVersion_Answers409_AndWithTheCurrentOne200()
    {
        var created = await Client.CoreV1.CreateNamespacedSecretAsync(Secret("pull"), "apps", cancellationToken: Ct);
        var first = await Client.CoreV1.ReplaceNamespacedSecretAsync(created, "pull", "apps", cancellationToken: Ct);

        var e = await Assert.ThrowsAsync<HttpOperationException>(() => Client.CoreV1.ReplaceNamespacedSecretAsync(created, "pull", "apps", cancellationToken: Ct));

        Assert.NotEqual(created.Metadata.ResourceVersion, first.Metadata.ResourceVersion);
        Assert.Equal(HttpStatusCode.Conflict, e.Response.StatusCode);
        Assert.Contains("the object has been modified", e.Response.Content, StringComparison.Ordinal);
        Assert.Equal((1, 1), (Server.SecretUpdates, Server.SecretConflicts));
    }

    [Fact]
    public async Task ReplaceSecret_WithoutAResourceVersion_Answers422()
    {
        var created = await Client.CoreV1.CreateNamespacedSecretAsync(Secret("pull"), "apps", cancellationToken: Ct);
        created.Metadata.ResourceVersion = null;

        var e = await Assert.ThrowsAsync<HttpOperationException>(() => Client.CoreV1.ReplaceNamespacedSecretAsync(created, "pull", "apps", cancellationToken: Ct));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, e.Response.StatusCode);
        Assert.Contains("metadata.resourceVersion: Invalid value: 0x0: must be specified for an update", e.Response.Content, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DeleteSecret_WithAnotherUidPrecondition_Answers409_AndWithItsOwnSuccess()
    {
        var created = await Client.CoreV1.CreateNamespacedSecretAsync(Secret("pull"), "apps", cancellationToken: Ct);

        var e = await Assert.ThrowsAsync<HttpOperationException>(() => Client.CoreV1.DeleteNamespacedSecretAsync("pull", "apps",
            new V1DeleteOptions { Preconditions = new V1Preconditions { Uid = Guid.NewGuid().ToString() } }, cancellationToken: Ct));
        var deleted = await Client.CoreV1.DeleteNamespacedSecretAsync("pull", "apps",
            new V1DeleteOptions { Preconditions = new V1Preconditions { Uid = created.Metadata.Uid } }, cancellationToken: Ct);

        Assert.Equal(HttpStatusCode.Conflict, e.Response.StatusCode);
        Assert.Contains("Precondition failed: UID in precondition", e.Response.Content, StringComparison.Ordinal);
        Assert.Equal(("Success", created.Metadata.Uid), (deleted.Status, deleted.Details.Uid));
        Assert.Null(Server.GetSecret("apps", "pull"));
    }

    [Fact]
    public async Task TokenRequest_BoundToASecret_NeedsThatSecretAndItsUid()
    {
        Server.AddServiceAccount(TestPods.ServiceAccount("apps", "builder"));
        var created = await Client.CoreV1.CreateNamespacedSecretAsync(Secret("pull"), "apps", cancellationToken: Ct);
        Authenticationv1TokenRequest Request(string uid) => new()
        {
            Spec = new V1TokenRequestSpec
            {
                Audiences = ["a"],
                BoundObjectRef = new V1BoundObjectReference { ApiVersion = "v1", Kind = "Secret", Name = "pull", Uid = uid },
            },
        };

        var issued = await Client.CoreV1.CreateNamespacedServiceAccountTokenAsync(Request(created.Metadata.Uid), "builder", "apps", cancellationToken: Ct);
        var e = await Assert.ThrowsAsync<HttpOperationException>(() =>
            Client.CoreV1.CreateNamespacedServiceAccountTokenAsync(Request(Guid.NewGuid().ToString()), "builder", "apps", cancellationToken: Ct));

        var claims = JsonNode.Parse(Convert.FromBase64String(Pad(issued.Status.Token.Split('.')[1])))!;
        Assert.Equal(created.Metadata.Uid, (string?)claims["kubernetes.io"]!["secret"]!["uid"]);
        Assert.Equal(HttpStatusCode.Conflict, e.Response.StatusCode);
    }

    [Fact]
    public async Task Lease_CreateReadReplace_IsCoordinationV1_WithOptimisticConcurrency()
    {
        var lease = new V1Lease { Metadata = new V1ObjectMeta { Name = "leader" }, Spec = new V1LeaseSpec { HolderIdentity = "a", LeaseDurationSeconds = 15 } };
        var created = await Client.CoordinationV1.CreateNamespacedLeaseAsync(lease, "ops", cancellationToken: Ct);
        created.Spec.HolderIdentity = "b";
        await Client.CoordinationV1.ReplaceNamespacedLeaseAsync(created, "leader", "ops", cancellationToken: Ct);
        created.Spec.HolderIdentity = "c";

        var e = await Assert.ThrowsAsync<HttpOperationException>(() => Client.CoordinationV1.ReplaceNamespacedLeaseAsync(created, "leader", "ops", cancellationToken: Ct));
        var read = await Client.CoordinationV1.ReadNamespacedLeaseAsync("leader", "ops", cancellationToken: Ct);

        Assert.Equal(HttpStatusCode.Conflict, e.Response.StatusCode);
        Assert.Equal(("coordination.k8s.io/v1", "Lease", "b"), (read.ApiVersion, read.Kind, read.Spec.HolderIdentity));
    }

    [Fact]
    public async Task PatchServiceAccount_MergePatch_ReplacesTheListAndChecksTheResourceVersion()
    {
        var added = Server.AddServiceAccount(TestPods.ServiceAccount("apps", "builder"));
        var patch = $$"""{"metadata":{"resourceVersion":"{{added.Metadata.ResourceVersion}}"},"imagePullSecrets":[{"name":"a"},{"name":"b"}]}""";

        var patched = await Client.CoreV1.PatchNamespacedServiceAccountAsync(new V1Patch(patch, V1Patch.PatchType.MergePatch), "builder", "apps", cancellationToken: Ct);
        var e = await Assert.ThrowsAsync<HttpOperationException>(() =>
            Client.CoreV1.PatchNamespacedServiceAccountAsync(new V1Patch(patch, V1Patch.PatchType.MergePatch), "builder", "apps", cancellationToken: Ct));
        var list = await Client.CoreV1.ListServiceAccountForAllNamespacesAsync(cancellationToken: Ct);

        Assert.Equal(["a", "b"], patched.ImagePullSecrets.Select(r => r.Name).ToList());
        Assert.Equal(HttpStatusCode.Conflict, e.Response.StatusCode);
        Assert.Equal(patched.Metadata.ResourceVersion, Assert.Single(list.Items).Metadata.ResourceVersion);
        Assert.False(string.IsNullOrEmpty(list.Metadata.ResourceVersion));
    }

    private static string Pad(string base64Url)
    {
        var text = base64Url.Replace('-', '+').Replace('_', '/');
        return text.PadRight(text.Length + ((4 - (text.Length % 4)) % 4), '=');
    }
}
