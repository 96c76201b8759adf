using MetadataProxy.EndToEnd.Lab;
using static MetadataProxy.EndToEnd.Manifests.RenderedManifests;

namespace MetadataProxy.EndToEnd.Manifests;

/// <summary>What sits beside the base: the example workload, the per-node uninstall Job and the DNS entries.</summary>
public sealed class OptionalManifestTests
{
    [Fact]
    public async Task Kustomize_Examples_AnnotatedServiceAccountAndAWorkloadUsingIt()
    {
        await SkipUnlessKubectlAsync();
        var rendered = await KustomizeAsync("examples");

        var account = rendered.Single("ServiceAccount");
        Assert.Equal("app@PROJECT.iam.gserviceaccount.com", At(account, "metadata", "annotations", "iam.gke.io/gcp-service-account").GetString());
        var pod = At(rendered.Single("Deployment"), "spec", "template", "spec");
        Assert.Equal(Name(account), At(pod, "serviceAccountName").GetString());
        Assert.Equal(Namespace(account), Namespace(rendered.Single("Deployment")));
        var alias = Assert.Single(At(pod, "hostAliases").EnumerateArray());
        Assert.Equal(("169.254.169.254", "metadata.google.internal"), (At(alias, "ip").GetString(), At(alias, "hostnames", 0).GetString()));
    }

    [Fact]
    public async Task Kustomize_Base_LeavesExamplesDnsAndUninstallOut()
    {
        await SkipUnlessKubectlAsync();
        var rendered = await KustomizeAsync();

        Assert.DoesNotContain(rendered.Objects, o => Kind(o) is "Job" or "Deployment" || Name(o) == "coredns-custom");
        // The kubelet's audience grant (manifests/kubelet/) is for KEP-4412 clusters only.
        Assert.DoesNotContain(rendered.Objects, o => Name(o) == "metadata-proxy-kubelet-token-audience");
    }

    [Fact]
    public async Task UninstallJob_ForOneNode_RunsUninstallThereWithTheInitImage()
    {
        await SkipUnlessKubectlAsync();
        var template = await File.ReadAllTextAsync(Path.Combine(RepositoryFiles.Manifests, "uninstall", "job.yaml"), TestContext.Current.CancellationToken);
        var job = (await FromYamlAsync(template.Replace("NODE_NAME", "node-7", StringComparison.Ordinal))).Single("Job");
        var initImage = At((await KustomizeAsync()).Single("DaemonSet"), "spec", "template", "spec", "initContainers", 0, "image").GetString();

        var pod = At(job, "spec", "template", "spec");
        Assert.Equal("node-7", At(pod, "nodeName").GetString());
        Assert.True(At(pod, "hostNetwork").GetBoolean());
        Assert.Equal("Exists", At(pod, "tolerations", 0, "operator").GetString());
        var container = Assert.Single(At(pod, "containers").EnumerateArray());
        Assert.Equal(["metadata-proxy-iptables", "uninstall"], Strings(At(container, "command")));
        Assert.Equal(initImage, At(container, "image").GetString());
        Assert.Equal(["NET_ADMIN", "NET_RAW"], Strings(At(container, "securityContext", "capabilities", "add")));
        Assert.Equal("metadata-proxy", Namespace(job));
    }

    [Fact]
    public async Task UninstallJob_ForOneNode_RemovesTheHostDnsLineFromTheHostsHostsFile()
    {
        await SkipUnlessKubectlAsync();
        var template = await File.ReadAllTextAsync(Path.Combine(RepositoryFiles.Manifests, "uninstall", "job.yaml"), TestContext.Current.CancellationToken);
        var pod = At((await FromYamlAsync(template.Replace("NODE_NAME", "node-7", StringComparison.Ordinal))).Single("Job"), "spec", "template", "spec");
        var daemonSetPod = At((await KustomizeAsync()).Single("DaemonSet"), "spec", "template", "spec");
        var container = Assert.Single(At(pod, "containers").EnumerateArray());

        // The same file at the same path as the DaemonSet's init container, which may have added the line.
        Assert.Equal(BaseManifestTests.Volume(daemonSetPod, "host-etc-hosts").GetRawText(), BaseManifestTests.Volume(pod, "host-etc-hosts").GetRawText());
        Assert.Equal("/host/etc/hosts", At(BaseManifestTests.Mount(container, "host-etc-hosts"), "mountPath").GetString());
        Assert.Equal(BaseManifestTests.EnvValue(BaseManifestTests.InitContainer(daemonSetPod, "install-interception"), "HOSTS_FILE"), BaseManifestTests.EnvValue(container, "HOSTS_FILE"));
    }

    [Fact]
    public async Task CorednsCustom_ServerBlock_ResolvesTheMetadataNameLikeTheStandaloneBlock()
    {
        await SkipUnlessKubectlAsync();
        var yaml = await File.ReadAllTextAsync(Path.Combine(RepositoryFiles.Manifests, "dns", "coredns-custom.yaml"), TestContext.Current.CancellationToken);
        var standalone = await File.ReadAllTextAsync(Path.Combine(RepositoryFiles.Manifests, "dns", "metadata.server"), TestContext.Current.CancellationToken);

        var config = (await FromYamlAsync(yaml)).Single("ConfigMap");
        var block = At(config, "data", "metadata-google-internal.server").GetString()!;

        Assert.Equal(("coredns-custom", "kube-system"), (Name(config), Namespace(config)));
        Assert.Equal(ActiveLines(standalone), ActiveLines(block));
        Assert.Contains("169.254.169.254 metadata.google.internal", ActiveLines(block));
    }

    private static string[] ActiveLines(string corefile) =>
        [.. corefile.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#'))];
}
