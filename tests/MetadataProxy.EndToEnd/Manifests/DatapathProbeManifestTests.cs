using System.Text.Json;
using static MetadataProxy.EndToEnd.Manifests.RenderedManifests;

namespace MetadataProxy.EndToEnd.Manifests;

/// <summary>
/// The datapath probe in the DaemonSet (issue 10, point 3): an init container after the install runs
/// <c>verify --probe</c> with the install's settings and writes its result to the pod's own emptyDir, which the
/// server reads for readiness; the uninstall remover runs no probe.
/// </summary>
public sealed class DatapathProbeManifestTests
{
    private const string MarkerDirectory = "/run/metadata-proxy-probe";

    [Fact]
    public async Task Kustomize_ProbeInitContainer_VerifiesWithTheInstallsSettingsAndOnlyTheCapabilitiesItNeeds()
    {
        await SkipUnlessKubectlAsync();
        var rendered = await KustomizeAsync();
        var pod = At(rendered.Single("DaemonSet"), "spec", "template", "spec");
        var install = BaseManifestTests.InitContainer(pod, "install-interception");
        var probe = BaseManifestTests.InitContainer(pod, "probe-datapath");

        Assert.Equal(At(install, "image").GetString(), At(probe, "image").GetString());
        Assert.Equal(["metadata-proxy-iptables", "verify", "--probe"], Strings(At(probe, "command")));
        // verify recomputes the rules from the same settings as install, or it would check other rules.
        Assert.Equal(At(install, "envFrom").GetRawText(), At(probe, "envFrom").GetRawText());
        Assert.Equal(BaseManifestTests.EnvValue(install, "HOSTS_FILE"), BaseManifestTests.EnvValue(probe, "HOSTS_FILE"));
        Assert.Equal($"{MarkerDirectory}/passed", BaseManifestTests.EnvValue(probe, "PROBE_MARKER_FILE"));
        Assert.Equal(["ALL"], Strings(At(probe, "securityContext", "capabilities", "drop")));
        Assert.Equal(["NET_ADMIN", "NET_RAW", "SYS_ADMIN"], Strings(At(probe, "securityContext", "capabilities", "add")));
        Assert.False(At(probe, "securityContext").TryGetProperty("privileged", out var privileged) && privileged.GetBoolean());
        Assert.False(At(probe, "securityContext", "allowPrivilegeEscalation").GetBoolean());
        Assert.True(At(probe, "securityContext", "readOnlyRootFilesystem").GetBoolean());
        Assert.Equal("/tmp", At(BaseManifestTests.Mount(probe, "tmp"), "mountPath").GetString());
        Assert.True(At(BaseManifestTests.Mount(probe, "host-etc-hosts"), "readOnly").GetBoolean(), "verify only reads the hosts file");
        Assert.Equal(MarkerDirectory, At(BaseManifestTests.Mount(probe, "datapath-probe"), "mountPath").GetString());
    }

    [Fact]
    public async Task Kustomize_Server_ReadsTheProbesResultFromThePodsOwnEmptyDir()
    {
        await SkipUnlessKubectlAsync();
        var rendered = await KustomizeAsync();
        var pod = At(rendered.Single("DaemonSet"), "spec", "template", "spec");
        var server = Assert.Single(At(pod, "containers").EnumerateArray(), c => At(c, "name").GetString() == "metadata-proxy");
        var config = At(rendered.Single("ConfigMap", "metadata-proxy-config-"), "data");

        var mount = BaseManifestTests.Mount(server, "datapath-probe");
        Assert.Equal(MarkerDirectory, At(mount, "mountPath").GetString());
        Assert.True(At(mount, "readOnly").GetBoolean());
        Assert.Equal($"{MarkerDirectory}/passed", At(config, "Operations__DatapathProbeFile").GetString());
        // Per pod, never a hostPath: a result left from before the node's last boot must not count.
        var volume = BaseManifestTests.Volume(pod, "datapath-probe");
        Assert.Equal(JsonValueKind.Object, At(volume, "emptyDir").ValueKind);
        Assert.False(volume.TryGetProperty("hostPath", out _));
    }

    [Fact]
    public async Task Kustomize_Uninstall_RunsNoProbe()
    {
        await SkipUnlessKubectlAsync();
        var pod = At((await KustomizeWithComponentsAsync("uninstall")).Single("DaemonSet"), "spec", "template", "spec");

        Assert.DoesNotContain("probe-datapath", At(pod, "initContainers").EnumerateArray().Select(c => At(c, "name").GetString()));
    }
}
