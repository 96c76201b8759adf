using static MetadataProxy.EndToEnd.Manifests.RenderedManifests;

namespace MetadataProxy.EndToEnd.Manifests;

/// <summary>
/// HOST_BOOT (issue 10, point 2) in the manifests: off in the base, which mounts no host unit directory; the host-boot
/// component turns it on and mounts the two host directories into the install (writable) and the probe (read-only);
/// with the uninstall component after it, the remover keeps those mounts, so it can remove the unit.
/// </summary>
public sealed class HostBootManifestTests
{
    private static readonly string[] HostMounts = ["host-systemd-system", "host-usr-local-lib"];

    [Fact]
    public async Task Kustomize_Base_HostBootIsOffAndNoContainerSeesTheHostsUnits()
    {
        await SkipUnlessKubectlAsync();
        var rendered = await KustomizeAsync();
        var pod = At(rendered.Single("DaemonSet"), "spec", "template", "spec");

        Assert.Equal("off", At(rendered.Single("ConfigMap", "metadata-proxy-interception-"), "data", "HOST_BOOT").GetString());
        Assert.DoesNotContain(At(pod, "volumes").EnumerateArray(), v => v.TryGetProperty("hostPath", out var h) && At(h, "path").GetString() is "/etc/systemd/system" or "/usr/local/lib");
    }

    [Fact]
    public async Task Kustomize_HostBootComponent_TurnsItOnAndMountsTheHostDirectoriesWhereTheScriptWrites()
    {
        await SkipUnlessKubectlAsync();
        var rendered = await KustomizeWithComponentsAsync("host-boot");
        var pod = At(rendered.Single("DaemonSet"), "spec", "template", "spec");
        var install = BaseManifestTests.InitContainer(pod, "install-interception");
        var probe = BaseManifestTests.InitContainer(pod, "probe-datapath");

        Assert.Equal("systemd", At(rendered.Single("ConfigMap", "metadata-proxy-interception-"), "data", "HOST_BOOT").GetString());
        // HOST_ROOT stays the script's default, /host.
        Assert.Equal("/host/etc/systemd/system", At(BaseManifestTests.Mount(install, "host-systemd-system"), "mountPath").GetString());
        Assert.Equal("/host/usr/local/lib", At(BaseManifestTests.Mount(install, "host-usr-local-lib"), "mountPath").GetString());
        Assert.All(HostMounts, m => Assert.False(BaseManifestTests.Mount(install, m).TryGetProperty("readOnly", out var r) && r.GetBoolean()));
        Assert.All(HostMounts, m => Assert.True(At(BaseManifestTests.Mount(probe, m), "readOnly").GetBoolean()));
        Assert.Equal(("/etc/systemd/system", "Directory"), HostPath(pod, "host-systemd-system"));
        Assert.Equal(("/usr/local/lib", "Directory"), HostPath(pod, "host-usr-local-lib"));
        var others = At(pod, "initContainers").EnumerateArray().Concat(At(pod, "containers").EnumerateArray())
            .Where(c => At(c, "name").GetString() is not ("install-interception" or "probe-datapath"));
        Assert.All(others, c => Assert.Empty(BaseManifestTests.Mounts(c).Intersect(HostMounts)));
    }

    [Fact]
    public async Task Kustomize_HostBootThenUninstall_TheRemoverMountsTheHostDirectories()
    {
        await SkipUnlessKubectlAsync();
        var rendered = await KustomizeWithComponentsAsync("host-boot", "uninstall");
        var pod = At(rendered.Single("DaemonSet"), "spec", "template", "spec");
        var remover = Assert.Single(At(pod, "initContainers").EnumerateArray());

        Assert.Equal(["metadata-proxy-iptables", "uninstall"], Strings(At(remover, "command")));
        Assert.All(HostMounts, m => Assert.Contains(m, BaseManifestTests.Mounts(remover)));
        Assert.Equal(("/etc/systemd/system", "Directory"), HostPath(pod, "host-systemd-system"));
    }

    private static (string?, string?) HostPath(System.Text.Json.JsonElement pod, string volume)
    {
        var hostPath = At(BaseManifestTests.Volume(pod, volume), "hostPath");
        return (At(hostPath, "path").GetString(), At(hostPath, "type").GetString());
    }
}
