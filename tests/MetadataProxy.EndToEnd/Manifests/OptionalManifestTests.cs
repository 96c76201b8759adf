using MetadataProxy.EndToEnd.Lab;
using static MetadataProxy.EndToEnd.Manifests.RenderedManifests;

namespace MetadataProxy.EndToEnd.Manifests;

/// <summary>What sits beside the base: the example workload, the uninstall component and the DNS entries.</summary>
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
        // Nor the optional components and the monitoring pack (CRDs a cluster may not have).
        Assert.DoesNotContain(rendered.Objects, o => Kind(o) is "ValidatingAdmissionPolicy" or "ValidatingAdmissionPolicyBinding" or "PodMonitor" or "PrometheusRule");
        Assert.DoesNotContain("metadataproxy.io/enabled", At(rendered.Single("DaemonSet"), "spec", "template", "spec", "nodeSelector").GetRawText(), StringComparison.Ordinal);
        // The kubelet's audience grant (manifests/kubelet/) is for KEP-4412 clusters only.
        Assert.DoesNotContain(rendered.Objects, o => Name(o) == "metadata-proxy-kubelet-token-audience");
    }

    [Fact]
    public async Task Uninstall_Component_TurnsEveryNodesAgentIntoTheRemoverWithTheImageKustomizeSet()
    {
        await SkipUnlessKubectlAsync();
        const string Images = """
            images:
              - name: ghcr.io/metadata-proxy/metadata-proxy
                newName: registry.example/mp
            """;
        var install = (await KustomizeWithComponentsAsync([], Images)).Single("DaemonSet");
        var remover = (await KustomizeWithComponentsAsync(["uninstall"], Images)).Single("DaemonSet");
        var installPod = At(install, "spec", "template", "spec");
        var pod = At(remover, "spec", "template", "spec");
        var installer = BaseManifestTests.InitContainer(installPod, "install-interception");

        // The same DaemonSet: applying it replaces the server on every node it runs on, all at once.
        Assert.Equal(Name(install), Name(remover));
        Assert.Equal("100%", At(remover, "spec", "updateStrategy", "rollingUpdate", "maxUnavailable").GetString());
        foreach (var field in new[] { "nodeSelector", "tolerations", "hostNetwork", "priorityClassName" })
            Assert.Equal(At(installPod, field).GetRawText(), At(pod, field).GetRawText());
        Assert.False(At(pod, "automountServiceAccountToken").GetBoolean());

        var uninstall = Assert.Single(At(pod, "initContainers").EnumerateArray());
        Assert.Equal("uninstall-interception", At(uninstall, "name").GetString());
        Assert.Equal(["metadata-proxy-iptables", "uninstall"], Strings(At(uninstall, "command")));
        // The image the overlay set, rewritten like the install's; and everything else the install had to find what it
        // installed: its settings, the hosts file, the locks, the capabilities.
        Assert.Equal("registry.example/mp:dev-init", At(installer, "image").GetString());
        foreach (var field in new[] { "image", "envFrom", "env", "volumeMounts", "securityContext" })
            Assert.Equal(At(installer, field).GetRawText(), At(uninstall, field).GetRawText());
        foreach (var mount in BaseManifestTests.Mounts(uninstall))
            Assert.Contains(At(pod, "volumes").EnumerateArray(), v => At(v, "name").GetString() == mount);

        var done = Assert.Single(At(pod, "containers").EnumerateArray());
        Assert.Equal(At(installer, "image").GetString(), At(done, "image").GetString());
        Assert.True(At(done, "securityContext", "runAsNonRoot").GetBoolean());
        Assert.Equal(["ALL"], Strings(At(done, "securityContext", "capabilities", "drop")));
        Assert.False(At(done, "securityContext", "capabilities").TryGetProperty("add", out _));
        Assert.False(At(done, "securityContext", "allowPrivilegeEscalation").GetBoolean());
    }

    [Fact]
    public async Task Uninstall_WithOptIn_RemovesFromTheLabelledNodesTheInstallRanOn()
    {
        await SkipUnlessKubectlAsync();
        var install = (await KustomizeWithComponentsAsync("opt-in")).Single("DaemonSet");
        var remover = (await KustomizeWithComponentsAsync("opt-in", "uninstall")).Single("DaemonSet");

        Assert.Equal(
            At(install, "spec", "template", "spec", "nodeSelector").GetRawText(),
            At(remover, "spec", "template", "spec", "nodeSelector").GetRawText());
        Assert.Equal(["metadata-proxy-iptables", "uninstall"], Strings(At(remover, "spec", "template", "spec", "initContainers", 0, "command")));
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
