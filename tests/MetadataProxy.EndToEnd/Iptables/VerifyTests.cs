using MetadataProxy.EndToEnd.Lab;

namespace MetadataProxy.EndToEnd.Iptables;

/// <summary><c>verify</c> names each missing piece on a line of its own and exits 1; it passes only on a complete install.</summary>
public sealed class VerifyTests
{
    private static readonly Dictionary<string, string> HostOptions = new() { ["HOST_INTERCEPTION"] = "on", ["HOST_DNS"] = "on" };

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Verify_BeforeInstall_FailsWithOneLinePerMissingPiece()
    {
        await LabRequirements.SkipUnlessAvailableAsync("iptables-nft", "ip6tables-nft");
        await using var lab = await NetworkNamespaceLab.CreateAsync(Ct);
        await NodeTables.SeedKubeProxyRulesAsync(lab, IptablesBackend.Nft);

        var verify = await new InterceptionScript(lab).VerifyAsync();

        Assert.Equal(1, verify.ExitCode);
        Assert.Equal(
            [
                "metadata-proxy-iptables: verify: IPv4: address 169.254.169.252/32 is not on lo",
                "metadata-proxy-iptables: verify: IPv4: chain METADATA-PROXY is missing from the nat table",
                "metadata-proxy-iptables: verify: IPv6: address fd20:ce::252/128 is not on lo",
                "metadata-proxy-iptables: verify: IPv6: chain METADATA-PROXY is missing from the nat table",
            ],
            verify.StandardError.TrimEnd().Split('\n'));
    }

    [Fact]
    public async Task Verify_AfterInstall_Passes()
    {
        await LabRequirements.SkipUnlessAvailableAsync("iptables-nft", "ip6tables-nft", "conntrack");
        await using var lab = await NetworkNamespaceLab.CreateAsync(Ct);
        await NodeTables.SeedKubeProxyRulesAsync(lab, IptablesBackend.Nft);
        var script = new InterceptionScript(lab);
        (await script.InstallAsync()).EnsureSuccess();

        var verify = await script.VerifyAsync();

        Assert.Equal(0, verify.ExitCode);
        Assert.Equal("metadata-proxy-iptables: verify: ok (backend nft, IPv4+IPv6, all interfaces but eth0)\n", verify.StandardOutput);
    }

    [Fact]
    public async Task Verify_DnatRuleAndAddressRemoved_NamesBoth()
    {
        await LabRequirements.SkipUnlessAvailableAsync("iptables-nft", "ip6tables-nft", "conntrack");
        await using var lab = await NetworkNamespaceLab.CreateAsync(Ct);
        await NodeTables.SeedKubeProxyRulesAsync(lab, IptablesBackend.Nft);
        var script = new InterceptionScript(lab);
        (await script.InstallAsync()).EnsureSuccess();
        (await lab.ExecAsync(lab.NodeNamespace, "iptables-nft", "-t", "nat", "-F", "METADATA-PROXY")).EnsureSuccess();
        (await lab.ExecAsync(lab.NodeNamespace, "ip", "addr", "del", "169.254.169.252/32", "dev", "lo")).EnsureSuccess();

        var verify = await script.VerifyAsync();

        Assert.Equal(1, verify.ExitCode);
        var lines = verify.StandardError.TrimEnd().Split('\n');
        Assert.Equal(2, lines.Length);
        Assert.Equal("metadata-proxy-iptables: verify: IPv4: address 169.254.169.252/32 is not on lo", lines[0]);
        Assert.StartsWith("metadata-proxy-iptables: verify: IPv4: rule missing from METADATA-PROXY: ! -i eth0 -d 169.254.169.254/32", lines[1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_DifferentPortInstalled_ReportsTheMismatch()
    {
        await LabRequirements.SkipUnlessAvailableAsync("iptables-nft", "conntrack");
        await using var lab = await NetworkNamespaceLab.CreateAsync(Ct);
        await NodeTables.SeedKubeProxyRulesAsync(lab, IptablesBackend.Nft);
        var script = new InterceptionScript(lab);
        (await script.InstallAsync(new Dictionary<string, string> { ["METADATA_PROXY_PORT"] = "988", ["IPV6"] = "off" })).EnsureSuccess();

        var verify = await script.VerifyAsync(new Dictionary<string, string> { ["IPV6"] = "off" });

        Assert.Equal(1, verify.ExitCode);
        var line = Assert.Single(verify.StandardError.TrimEnd().Split('\n'));
        Assert.StartsWith("metadata-proxy-iptables: verify: IPv4: rule missing from METADATA-PROXY: ", line, StringComparison.Ordinal);
        Assert.EndsWith("--to-destination 169.254.169.252:8988", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_AfterInstallWithHostInterceptionAndHostDns_PassesAndSaysSo()
    {
        await LabRequirements.SkipUnlessAvailableAsync("iptables-nft", "ip6tables-nft", "conntrack");
        await using var lab = await NetworkNamespaceLab.CreateAsync(Ct);
        await NodeTables.SeedKubeProxyRulesAsync(lab, IptablesBackend.Nft);
        var script = new InterceptionScript(lab);
        await File.WriteAllTextAsync(script.HostsFile, "127.0.0.1 localhost\n", Ct);
        (await script.InstallAsync(HostOptions)).EnsureSuccess();

        var verify = await script.VerifyAsync(HostOptions);

        Assert.Equal(0, verify.ExitCode);
        Assert.Equal(
            $"metadata-proxy-iptables: verify: ok (backend nft, IPv4+IPv6, all interfaces but eth0, host processes but uid 1654, hosts file {script.HostsFile})\n",
            verify.StandardOutput);
    }

    [Fact]
    public async Task Verify_HostInterceptionExpectedButNotInstalled_ReportsTheMissingHostChainPerFamily()
    {
        await LabRequirements.SkipUnlessAvailableAsync("iptables-nft", "ip6tables-nft", "conntrack");
        await using var lab = await NetworkNamespaceLab.CreateAsync(Ct);
        await NodeTables.SeedKubeProxyRulesAsync(lab, IptablesBackend.Nft);
        var script = new InterceptionScript(lab);
        (await script.InstallAsync()).EnsureSuccess();

        var verify = await script.VerifyAsync(new Dictionary<string, string> { ["HOST_INTERCEPTION"] = "on" });

        Assert.Equal(1, verify.ExitCode);
        Assert.Equal(
            [
                "metadata-proxy-iptables: verify: IPv4: chain METADATA-PROXY-HOST is missing from the nat table",
                "metadata-proxy-iptables: verify: IPv6: chain METADATA-PROXY-HOST is missing from the nat table",
            ],
            verify.StandardError.TrimEnd().Split('\n'));
    }

    [Fact]
    public async Task Verify_HostJumpDeleted_ReportsTheMissingJump()
    {
        await LabRequirements.SkipUnlessAvailableAsync("iptables-nft", "conntrack");
        await using var lab = await NetworkNamespaceLab.CreateAsync(Ct);
        await NodeTables.SeedKubeProxyRulesAsync(lab, IptablesBackend.Nft);
        var script = new InterceptionScript(lab);
        var environment = new Dictionary<string, string> { ["HOST_INTERCEPTION"] = "on", ["IPV6"] = "off" };
        (await script.InstallAsync(environment)).EnsureSuccess();
        (await lab.ExecAsync(
            lab.NodeNamespace,
            "iptables-nft", "-t", "nat", "-D", "OUTPUT", "-m", "comment", "--comment", "metadata-proxy: host metadata traffic", "-j", "METADATA-PROXY-HOST")).EnsureSuccess();

        var verify = await script.VerifyAsync(environment);

        Assert.Equal(1, verify.ExitCode);
        Assert.Equal("metadata-proxy-iptables: verify: IPv4: no jump from nat OUTPUT to METADATA-PROXY-HOST\n", verify.StandardError);
    }

    [Fact]
    public async Task Verify_HostInterceptionOffWithHostChainAndHostsLineLeftOver_ReportsBoth()
    {
        await LabRequirements.SkipUnlessAvailableAsync("iptables-nft", "conntrack");
        await using var lab = await NetworkNamespaceLab.CreateAsync(Ct);
        await NodeTables.SeedKubeProxyRulesAsync(lab, IptablesBackend.Nft);
        var script = new InterceptionScript(lab);
        await File.WriteAllTextAsync(script.HostsFile, "127.0.0.1 localhost\n", Ct);
        var off = new Dictionary<string, string> { ["IPV6"] = "off" };
        (await script.InstallAsync(new Dictionary<string, string>(HostOptions) { ["IPV6"] = "off" })).EnsureSuccess();

        var verify = await script.VerifyAsync(off);

        Assert.Equal(1, verify.ExitCode);
        Assert.Equal(
            [
                "metadata-proxy-iptables: verify: IPv4: chain METADATA-PROXY-HOST is left over while HOST_INTERCEPTION is off (install or uninstall removes it)",
                $"metadata-proxy-iptables: verify: hosts file {script.HostsFile} still has a line marked \"# metadata-proxy\" while HOST_DNS is off (install or uninstall removes it)",
            ],
            verify.StandardError.TrimEnd().Split('\n'));
    }

    [Fact]
    public async Task Verify_HostDnsOnWithoutTheLine_ReportsIt()
    {
        await LabRequirements.SkipUnlessAvailableAsync("iptables-nft", "conntrack");
        await using var lab = await NetworkNamespaceLab.CreateAsync(Ct);
        await NodeTables.SeedKubeProxyRulesAsync(lab, IptablesBackend.Nft);
        var script = new InterceptionScript(lab);
        await File.WriteAllTextAsync(script.HostsFile, "127.0.0.1 localhost\n", Ct);
        (await script.InstallAsync(new Dictionary<string, string> { ["IPV6"] = "off" })).EnsureSuccess();

        var verify = await script.VerifyAsync(new Dictionary<string, string> { ["IPV6"] = "off", ["HOST_DNS"] = "on" });

        Assert.Equal(1, verify.ExitCode);
        Assert.Equal(
            $"metadata-proxy-iptables: verify: hosts file {script.HostsFile} lacks the line \"169.254.169.254 metadata.google.internal metadata.google.internal. # metadata-proxy\"\n",
            verify.StandardError);
    }
}
