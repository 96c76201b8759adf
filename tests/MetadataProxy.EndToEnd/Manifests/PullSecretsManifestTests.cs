using System.Text.Json;
using static MetadataProxy.EndToEnd.Manifests.RenderedManifests;

namespace MetadataProxy.EndToEnd.Manifests;

/// <summary>manifests/pull-secrets/ (issue 13): the controller's Deployment and exactly the access it uses.</summary>
public sealed class PullSecretsManifestTests
{
    private const string Namespace = "metadata-proxy-pull-secrets";

    [Fact]
    public async Task Kustomize_PullSecrets_TwoUnprivilegedReplicasInARestrictedNamespace()
    {
        await SkipUnlessKubectlAsync();
        var rendered = await KustomizeAsync("pull-secrets");

        Assert.Equal("restricted", At(rendered.Single("Namespace"), "metadata", "labels", "pod-security.kubernetes.io/enforce").GetString());
        var deployment = rendered.Single("Deployment");
        Assert.Equal(Namespace, RenderedManifests.Namespace(deployment));
        Assert.Equal(2, At(deployment, "spec", "replicas").GetInt32());
        var pod = At(deployment, "spec", "template", "spec");
        Assert.Equal(Name(rendered.Single("ServiceAccount")), At(pod, "serviceAccountName").GetString());
        Assert.False(pod.TryGetProperty("hostNetwork", out _));
        var container = Assert.Single(At(pod, "containers").EnumerateArray());
        Assert.Equal("ghcr.io/metadata-proxy/metadata-proxy:dev", At(container, "image").GetString());
        var security = At(container, "securityContext");
        Assert.True(At(security, "runAsNonRoot").GetBoolean());
        Assert.False(At(security, "allowPrivilegeEscalation").GetBoolean());
        Assert.True(At(security, "readOnlyRootFilesystem").GetBoolean());
        Assert.Equal(["ALL"], Strings(At(security, "capabilities", "drop")));
        Assert.False(At(security, "capabilities").TryGetProperty("add", out _));
        Assert.Equal("/readyz", At(container, "readinessProbe", "httpGet", "path").GetString());
        Assert.Equal(["metadata.namespace", "metadata.name"],
            At(container, "env").EnumerateArray().Where(e => At(e, "name").GetString() is "POD_NAMESPACE" or "POD_NAME")
                .Select(e => At(e, "valueFrom", "fieldRef", "fieldPath").GetString()!).ToList());

        var config = rendered.Single("ConfigMap", "metadata-proxy-pull-secrets-config");
        Assert.Equal("PullSecrets", At(config, "data", "Mode").GetString());
        Assert.Equal(Name(config), At(container, "envFrom", 0, "configMapRef", "name").GetString());
    }

    [Fact]
    public async Task Kustomize_PullSecrets_RbacIsExactlyWhatTheControllerCalls()
    {
        await SkipUnlessKubectlAsync();
        var rendered = await KustomizeAsync("pull-secrets");
        var account = rendered.Single("ServiceAccount");

        Assert.Equal(
            new[] { "/serviceaccounts:get,list,patch,watch", "/serviceaccounts/token:create", "/secrets:create,delete,get,update", "/events:create" },
            Rules(rendered.Single("ClusterRole")));
        var role = rendered.Single("Role");
        Assert.Equal(Namespace, RenderedManifests.Namespace(role));
        Assert.Equal(new[] { "coordination.k8s.io/leases:create,get,update" }, Rules(role));
        AssertBinds(rendered.Single("ClusterRoleBinding"), rendered.Single("ClusterRole"), account);
        AssertBinds(rendered.Single("RoleBinding"), role, account);
        Assert.Equal(Namespace, RenderedManifests.Namespace(rendered.Single("RoleBinding")));
    }

    [Fact]
    public async Task Kustomize_Base_LeavesThePullSecretControllerOut()
    {
        await SkipUnlessKubectlAsync();
        var rendered = await KustomizeAsync();

        Assert.DoesNotContain(rendered.Objects, o => Name(o).StartsWith("metadata-proxy-pull-secrets", StringComparison.Ordinal));
    }

    private static string[] Rules(JsonElement role) =>
        [.. At(role, "rules").EnumerateArray().Select(r =>
            $"{string.Join(",", Strings(At(r, "apiGroups")))}/{string.Join(",", Strings(At(r, "resources")))}:{string.Join(",", Strings(At(r, "verbs")).Order(StringComparer.Ordinal))}")];

    private static void AssertBinds(JsonElement binding, JsonElement role, JsonElement account)
    {
        Assert.Equal((Kind(role), Name(role)), (At(binding, "roleRef", "kind").GetString(), At(binding, "roleRef", "name").GetString()));
        var subject = Assert.Single(At(binding, "subjects").EnumerateArray());
        Assert.Equal(("ServiceAccount", Name(account), RenderedManifests.Namespace(account)),
            (At(subject, "kind").GetString(), At(subject, "name").GetString(), At(subject, "namespace").GetString()));
    }
}
