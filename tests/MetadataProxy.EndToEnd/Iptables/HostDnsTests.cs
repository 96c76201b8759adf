using System.Runtime.Versioning;
using System.Text;
using MetadataProxy.EndToEnd.Lab;

namespace MetadataProxy.EndToEnd.Iptables;

/// <summary>
/// HOST_DNS: one marked <c>metadata.google.internal</c> line in the host's hosts file, added once, removed by uninstall,
/// every other byte of the file kept.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class HostDnsTests
{
    private const string Line = "169.254.169.254 metadata.google.internal metadata.google.internal. # metadata-proxy\n";
    private static readonly Dictionary<string, string> HostDns = new() { ["HOST_DNS"] = "on" };

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static TheoryData<string, string> HostsFiles => new()
    {
        // Tabs, a CRLF line, trailing blanks, a blank line and comments stay exactly as they are.
        { "127.0.0.1\tlocalhost\r\n::1 localhost ip6-localhost   \n\n# managed by hand\n10.0.0.5 node-a\n", "127.0.0.1\tlocalhost\r\n::1 localhost ip6-localhost   \n\n# managed by hand\n10.0.0.5 node-a\n" + Line },
        // A last line without a newline stays last and without one; ours goes before it.
        { "127.0.0.1 localhost\n10.0.0.5 node-a", "127.0.0.1 localhost\n" + Line + "10.0.0.5 node-a" },
        { "", Line },
    };

    [Theory]
    [MemberData(nameof(HostsFiles))]
    public async Task Install_HostDnsOn_AddsOneMarkedLineOnceAndUninstallGivesBackTheSameBytes(string original, string expected)
    {
        await LabRequirements.SkipUnlessAvailableAsync("iptables-nft", "conntrack");
        await using var lab = await NetworkNamespaceLab.CreateAsync(Ct);
        await NodeTables.SeedKubeProxyRulesAsync(lab, IptablesBackend.Nft);
        var script = new InterceptionScript(lab);
        await File.WriteAllBytesAsync(script.HostsFile, Encoding.UTF8.GetBytes(original), Ct);
        File.SetUnixFileMode(script.HostsFile, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        var first = await script.InstallAsync(HostDns);
        var afterFirst = await File.ReadAllBytesAsync(script.HostsFile, Ct);
        var second = await script.InstallAsync(HostDns);

        Assert.True(first.Succeeded, first.ToString());
        Assert.Equal(expected, Encoding.UTF8.GetString(afterFirst));
        Assert.True(second.Succeeded, second.ToString());
        Assert.DoesNotContain("hosts file", second.StandardError, StringComparison.Ordinal);
        Assert.Equal(afterFirst, await File.ReadAllBytesAsync(script.HostsFile, Ct));
        // Written to a new file and renamed over the old one: the mode must come along.
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead, File.GetUnixFileMode(script.HostsFile));
        (await script.UninstallAsync()).EnsureSuccess();
        Assert.Equal(Encoding.UTF8.GetBytes(original), await File.ReadAllBytesAsync(script.HostsFile, Ct));
    }

    [Fact]
    public async Task Install_HostDnsOnWithAnOlderMarkedLine_LeavesExactlyOneLineAndAnAdminsComment()
    {
        await LabRequirements.SkipUnlessAvailableAsync("iptables-nft", "conntrack");
        await using var lab = await NetworkNamespaceLab.CreateAsync(Ct);
        await NodeTables.SeedKubeProxyRulesAsync(lab, IptablesBackend.Nft);
        var script = new InterceptionScript(lab);
        await File.WriteAllTextAsync(
            script.HostsFile,
            "127.0.0.1 localhost\n169.254.169.254 metadata.google.internal # metadata-proxy\n# metadata-proxy\n10.0.0.5 node-a\n",
            Ct);

        (await script.InstallAsync(HostDns)).EnsureSuccess();

        Assert.Equal("127.0.0.1 localhost\n# metadata-proxy\n10.0.0.5 node-a\n" + Line, await File.ReadAllTextAsync(script.HostsFile, Ct));
    }

    [Fact]
    public async Task Install_HostDnsTurnedOff_RemovesTheLine()
    {
        await LabRequirements.SkipUnlessAvailableAsync("iptables-nft", "conntrack");
        await using var lab = await NetworkNamespaceLab.CreateAsync(Ct);
        await NodeTables.SeedKubeProxyRulesAsync(lab, IptablesBackend.Nft);
        var script = new InterceptionScript(lab);
        await File.WriteAllTextAsync(script.HostsFile, "127.0.0.1 localhost\n", Ct);
        (await script.InstallAsync(HostDns)).EnsureSuccess();

        var reinstall = await script.InstallAsync();

        Assert.True(reinstall.Succeeded, reinstall.ToString());
        Assert.Equal("127.0.0.1 localhost\n", await File.ReadAllTextAsync(script.HostsFile, Ct));
    }

    [Fact]
    public async Task Install_HostsFileIsBindMounted_WritesInPlaceAndTheNameResolves()
    {
        await LabRequirements.SkipUnlessAvailableAsync("iptables-nft", "conntrack", "getent");
        await using var lab = await NetworkNamespaceLab.CreateAsync(Ct);
        await NodeTables.SeedKubeProxyRulesAsync(lab, IptablesBackend.Nft);
        var machineHosts = await File.ReadAllBytesAsync("/etc/hosts", Ct);
        const string original = "127.0.0.1 localhost\n10.0.0.5 node-a\n";
        // `ip netns exec` bind-mounts this file over /etc/hosts for what runs in the node: like a container's
        // /etc/hosts, it cannot be renamed over (EBUSY).
        var hosts = lab.WriteEtcFile(lab.NodeNamespace, "hosts", original);
        Assert.Equal(original, (await lab.ExecAsync(lab.NodeNamespace, "cat", "/etc/hosts")).EnsureSuccess().StandardOutput);
        var script = new InterceptionScript(lab);
        var environment = new Dictionary<string, string> { ["HOST_DNS"] = "on", ["HOSTS_FILE"] = "/etc/hosts" };

        var install = await script.InstallAsync(environment);

        Assert.True(install.Succeeded, install.ToString());
        Assert.Equal(original + Line, await File.ReadAllTextAsync(hosts.Path, Ct));
        // glibc matches the trailing-dot form (which Google's Go client looks up) only through its own alias.
        foreach (var name in new[] { "metadata.google.internal", "metadata.google.internal." })
        {
            // Files only: getent asks for IPv6 first, which the hosts line lacks, and the lab has no DNS to wait for.
            var resolved = await lab.ExecAsync(lab.NodeNamespace, "getent", "-s", "files", "hosts", name);
            Assert.Equal("169.254.169.254 metadata.google.internal metadata.google.internal.", string.Join(' ', resolved.StandardOutput.Split(' ', StringSplitOptions.RemoveEmptyEntries)).TrimEnd());
        }

        (await script.UninstallAsync(environment)).EnsureSuccess();
        Assert.Equal(original, await File.ReadAllTextAsync(hosts.Path, Ct));
        Assert.Equal(machineHosts, await File.ReadAllBytesAsync("/etc/hosts", Ct));
    }

    [Fact]
    public async Task Install_HostsFileIsASymlink_EditsTheTargetAndKeepsTheLink()
    {
        await LabRequirements.SkipUnlessAvailableAsync("iptables-nft", "conntrack");
        await using var lab = await NetworkNamespaceLab.CreateAsync(Ct);
        await NodeTables.SeedKubeProxyRulesAsync(lab, IptablesBackend.Nft);
        var script = new InterceptionScript(lab);
        var target = Path.Combine(lab.WorkDirectory, "hosts.real");
        await File.WriteAllTextAsync(target, "127.0.0.1 localhost\n", Ct);
        File.CreateSymbolicLink(script.HostsFile, target);

        (await script.InstallAsync(HostDns)).EnsureSuccess();

        Assert.Equal(target, new FileInfo(script.HostsFile).LinkTarget);
        Assert.Equal("127.0.0.1 localhost\n" + Line, await File.ReadAllTextAsync(target, Ct));
    }

    [Fact]
    public async Task Install_HostDnsOnWithoutHostsFile_ExitsWithReasonBeforeAnyChange()
    {
        await LabRequirements.SkipUnlessAvailableAsync("iptables-nft", "conntrack");
        await using var lab = await NetworkNamespaceLab.CreateAsync(Ct);
        await NodeTables.SeedKubeProxyRulesAsync(lab, IptablesBackend.Nft);
        var before = await NodeTables.SaveAsync(lab, IptablesBackend.Nft, 4);
        var script = new InterceptionScript(lab);

        var install = await script.InstallAsync(HostDns);

        Assert.Equal(3, install.ExitCode);
        Assert.Equal(
            $"metadata-proxy-iptables: HOST_DNS=on but the hosts file {script.HostsFile} does not exist (mount the host's /etc/hosts and set HOSTS_FILE)\n",
            install.StandardError);
        Assert.Equal(before, await NodeTables.SaveAsync(lab, IptablesBackend.Nft, 4));
    }
}
