using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using MetadataProxy.EndToEnd.Lab;
using static MetadataProxy.EndToEnd.Manifests.RenderedManifests;

namespace MetadataProxy.EndToEnd.Manifests;

/// <summary>
/// manifests/kubelet/: the two CredentialProviderConfig files a node's kubelet reads (decoded strictly by the kubelet:
/// an unknown field stops it), the KEP-4412 audience grant, and the overlay patch that moves the plugin's directory.
/// Field names and shapes are those of k8s.io/kubelet/config/v1 (CredentialProvider, ServiceAccountTokenAttributes)
/// and of the NodeRestriction audience check.
/// </summary>
public sealed partial class KubeletManifestTests
{
    private const string PluginName = "metadata-proxy-credential-provider";

    private static readonly string[] GoogleRegistries = ["*.gcr.io", "gcr.io", "*.pkg.dev", "container.cloud.google.com"];

    // k8s.io/kubelet/config/v1 types.go: every field a v1 CredentialProvider and its tokenAttributes may carry.
    private static readonly string[] ProviderFields = ["apiVersion", "args", "defaultCacheDuration", "env", "matchImages", "name", "tokenAttributes"];

    private static readonly string[] TokenAttributeFields =
    [
        "cacheType", "optionalServiceAccountAnnotationKeys", "requireServiceAccount", "requiredServiceAccountAnnotationKeys",
        "serviceAccountTokenAudience",
    ];

    [Fact]
    public async Task NodeIdentityConfig_Always_IsAV1ConfigForThePluginOnGoogleRegistries()
    {
        await SkipUnlessKubectlAsync();
        var provider = await SingleProviderAsync("credential-provider-config.yaml");

        Assert.Equal(["apiVersion", "args", "defaultCacheDuration", "matchImages", "name"], Fields(provider));
        Assert.Equal(PluginName, At(provider, "name").GetString());
        Assert.Equal(GoogleRegistries, Strings(At(provider, "matchImages")));
        Assert.Equal("credentialprovider.kubelet.k8s.io/v1", At(provider, "apiVersion").GetString());
        Assert.Equal(["get-credentials"], Strings(At(provider, "args")));
        Assert.Matches(GoDuration(), At(provider, "defaultCacheDuration").GetString());
    }

    [Fact]
    public async Task Kep4412Config_Always_IsTheNodeConfigPlusTokenAttributesForThePoolProvider()
    {
        await SkipUnlessKubectlAsync();
        var node = await SingleProviderAsync("credential-provider-config.yaml");
        var pod = await SingleProviderAsync("credential-provider-config-kep4412.yaml");

        // The same plugin, registries and arguments: only the token differs.
        Assert.Equal([.. Fields(node), "tokenAttributes"], Fields(pod));
        foreach (var field in Fields(node))
            Assert.Equal(At(node, field).GetRawText(), At(pod, field).GetRawText());

        var token = At(pod, "tokenAttributes");
        Assert.Equal(["cacheType", "optionalServiceAccountAnnotationKeys", "requireServiceAccount", "serviceAccountTokenAudience"], Fields(token));
        Assert.Equal("ServiceAccount", At(token, "cacheType").GetString());
        Assert.Equal(JsonValueKind.False, At(token, "requireServiceAccount").ValueKind);
        Assert.Equal(["iam.gke.io/gcp-service-account"], Strings(At(token, "optionalServiceAccountAnnotationKeys")));
        Assert.Equal(await ServerAudienceAsync(), At(token, "serviceAccountTokenAudience").GetString());
    }

    [Fact]
    public async Task BothConfigs_Always_NameOnlyFieldsTheKubeletKnows()
    {
        await SkipUnlessKubectlAsync();
        foreach (var file in new[] { "credential-provider-config.yaml", "credential-provider-config-kep4412.yaml" })
        {
            var config = await ConfigAsync(file);

            Assert.Equal(("kubelet.config.k8s.io/v1", "CredentialProviderConfig"), (At(config, "apiVersion").GetString(), Kind(config)));
            // kubectl adds empty metadata while converting; the file itself has none.
            Assert.Equal(["apiVersion", "kind", "providers"], Fields(config).Where(f => f != "metadata"));
            var provider = Assert.Single(At(config, "providers").EnumerateArray());
            Assert.All(Fields(provider), f => Assert.Contains(f, ProviderFields));
            if (provider.TryGetProperty("tokenAttributes", out var token))
                Assert.All(Fields(token), f => Assert.Contains(f, TokenAttributeFields));
        }
    }

    [Fact]
    public async Task AudienceGrant_Always_LetsEveryKubeletRequestTokensForExactlyThePoolProvider()
    {
        await SkipUnlessKubectlAsync();
        var rendered = await KustomizeAsync("kubelet");

        Assert.Equal(["ClusterRole", "ClusterRoleBinding"], rendered.Objects.Select(Kind).Order(StringComparer.Ordinal));
        var role = rendered.Single("ClusterRole");
        var rule = Assert.Single(At(role, "rules").EnumerateArray());
        // NodeRestriction asks: verb request-serviceaccounts-token-audience, core group, resource = the audience,
        // name = the ServiceAccount (no resourceNames: any).
        Assert.Equal(["apiGroups", "resources", "verbs"], Fields(rule));
        Assert.Equal([""], Strings(At(rule, "apiGroups")));
        Assert.Equal(["request-serviceaccounts-token-audience"], Strings(At(rule, "verbs")));
        var audience = Assert.Single(Strings(At(rule, "resources")));
        Assert.Equal(await ServerAudienceAsync(), audience);
        var config = await SingleProviderAsync("credential-provider-config-kep4412.yaml");
        Assert.Equal(At(config, "tokenAttributes", "serviceAccountTokenAudience").GetString(), audience);

        var binding = rendered.Single("ClusterRoleBinding");
        Assert.Equal(("rbac.authorization.k8s.io", "ClusterRole", Name(role)),
            (At(binding, "roleRef", "apiGroup").GetString(), At(binding, "roleRef", "kind").GetString(), At(binding, "roleRef", "name").GetString()));
        var subject = Assert.Single(At(binding, "subjects").EnumerateArray());
        Assert.Equal(("Group", "system:nodes", "rbac.authorization.k8s.io"),
            (At(subject, "kind").GetString(), At(subject, "name").GetString(), At(subject, "apiGroup").GetString()));
    }

    [Fact]
    public async Task Configs_Always_NameTheExecutableTheDaemonSetInstalls()
    {
        await SkipUnlessKubectlAsync();
        var pod = At((await KustomizeAsync()).Single("DaemonSet"), "spec", "template", "spec");
        var installed = Path.GetFileName(Strings(At(BaseManifestTests.InitContainer(pod, "install-credential-provider"), "command"))[0]);

        Assert.Equal(PluginName, installed);
        Assert.Equal(installed, At(await SingleProviderAsync("credential-provider-config.yaml"), "name").GetString());
    }

    [Fact]
    public async Task BinDirPatch_InAnOverlay_MovesTheInstallDirectoryAndNothingElse()
    {
        await SkipUnlessKubectlAsync();
        var overlay = Directory.CreateTempSubdirectory("metadata-proxy-overlay-");
        try
        {
            File.Copy(Path.Combine(RepositoryFiles.Manifests, "kubelet", "bin-dir-patch.yaml"), Path.Combine(overlay.FullName, "bin-dir-patch.yaml"));
            // As the patch's own comment says; kustomize wants the base as a relative path.
            var basePath = Path.GetRelativePath(overlay.FullName, RepositoryFiles.Manifests);
            await File.WriteAllTextAsync(
                Path.Combine(overlay.FullName, "kustomization.yaml"),
                $"resources: [{basePath}]\npatches: [{{path: bin-dir-patch.yaml}}]\n",
                TestContext.Current.CancellationToken);

            var patched = await KustomizeAsync(overlay.FullName);
            var original = await KustomizeAsync();

            var pod = At(patched.Single("DaemonSet"), "spec", "template", "spec");
            Assert.Equal("/var/lib/rancher/credentialprovider/bin", At(BaseManifestTests.Volume(pod, "credential-provider-bin"), "hostPath", "path").GetString());
            // A strategic merge keeps volumes by name but may reorder them.
            Assert.Equal(
                WithVolumesByName(original.Single("DaemonSet")).Replace("/etc/kubernetes/image-credential-provider", "/var/lib/rancher/credentialprovider/bin", StringComparison.Ordinal),
                WithVolumesByName(patched.Single("DaemonSet")));
            Assert.Equal(original.Objects.Count, patched.Objects.Count);
        }
        finally
        {
            overlay.Delete(recursive: true);
        }
    }

    // WorkloadIdentity:TokenAudience's default, from the same placeholders config.env carries.
    private static async Task<string> ServerAudienceAsync()
    {
        var data = At((await KustomizeAsync()).Single("ConfigMap", "metadata-proxy-config-"), "data");
        return $"https://iam.googleapis.com/projects/{At(data, "WorkloadIdentity__ProjectNumber").GetString()}/locations/global" +
            $"/workloadIdentityPools/{At(data, "WorkloadIdentity__PoolId").GetString()}/providers/{At(data, "WorkloadIdentity__ProviderId").GetString()}";
    }

    private static async Task<JsonElement> ConfigAsync(string file)
    {
        var yaml = await File.ReadAllTextAsync(Path.Combine(RepositoryFiles.Manifests, "kubelet", file), TestContext.Current.CancellationToken);
        return Assert.Single((await FromYamlAsync(yaml)).Objects);
    }

    private static async Task<JsonElement> SingleProviderAsync(string file) =>
        Assert.Single(At(await ConfigAsync(file), "providers").EnumerateArray());

    private static string WithVolumesByName(JsonElement daemonSet)
    {
        var node = JsonNode.Parse(daemonSet.GetRawText())!;
        var pod = node["spec"]!["template"]!["spec"]!.AsObject();
        var volumes = pod["volumes"]!.AsArray().Select(v => v!.DeepClone()).OrderBy(v => (string?)v["name"], StringComparer.Ordinal);
        pod["volumes"] = new JsonArray([.. volumes]);
        return node.ToJsonString();
    }

    private static string[] Fields(JsonElement o) => [.. o.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal)];

    // metav1.Duration: Go's time.ParseDuration syntax.
    [GeneratedRegex(@"^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$")]
    private static partial Regex GoDuration();
}
