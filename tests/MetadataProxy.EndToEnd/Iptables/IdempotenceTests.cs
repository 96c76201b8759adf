using MetadataProxy.EndToEnd.Lab;

namespace MetadataProxy.EndToEnd.Iptables;

/// <summary>Install and uninstall can run any number of times, at once, and leave the node exactly as it was.</summary>
public sealed class IdempotenceTests
{
    private const string Jump = "-A PREROUTING -m comment --comment \"metadata-proxy: pod metadata traffic\" -j METADATA-PROXY";
    private const string HostJump = "-A OUTPUT -m comment --comment \"metadata-proxy: host metadata traffic\" -j METADATA-PROXY-HOST";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Install_Twice_LeavesOneJumpAtPositionOneAndOneDnatRulePerFamily()
    {
        await LabRequirements.SkipUnlessAvailableAsync("iptables-nft", "ip6tables-nft", "conntrack");
        await using var lab = await NetworkNamespaceLab.CreateAsync(Ct);
        await NodeTables.SeedKubeProxyRulesAsync(lab, IptablesBackend.Nft);
        var script = new InterceptionScript(lab);

        (await script.InstallAsync()).EnsureSuccess();
        (await script.InstallAsync()).EnsureSuccess();

        await AssertInstalledOnceAsync(lab);
    }

    [Fact]
    public async Task Install_TwoAtOnce_LeavesOneJumpAndOneDnatRulePerFamily()
    {
        await LabRequirements.SkipUnlessAvailableAsync("iptables-nft", "ip6tables-nft", "conntrack");
        await using var lab = await NetworkNamespaceLab.CreateAsync(Ct);
        await NodeTables.SeedKubeProxyRulesAsync(lab, IptablesBackend.Nft);
        var script = new InterceptionScript(lab);

        var results = await Task.WhenAll(script.InstallAsync(), script.InstallAsync(), script.InstallAsync());

        Assert.All(results, r => Assert.True(r.Succeeded, r.ToString()));
        await AssertInstalledOnceAsync(lab);
    }

    [Fact]
    public async Task Install_AnotherRuleInsertedFirstLater_VerifyFailsAndReinstallMovesTheJumpBackToFirst()
    {
        await LabRequirements.SkipUnlessAvailableAsync("iptables-nft", "ip6tables-nft", "conntrack");
        await using var lab = await NetworkNamespaceLab.CreateAsync(Ct);
        await NodeTables.SeedKubeProxyRulesAsync(lab, IptablesBackend.Nft);
        var script = new InterceptionScript(lab);
        (await script.InstallAsync()).EnsureSuccess();
        // What a CNI in "insert" mode does to PREROUTING after we ran.
        (await lab.ExecAsync(lab.NodeNamespace, "iptables-nft", "-t", "nat", "-I", "PREROUTING", "1", "-j", "KUBE-SERVICES")).EnsureSuccess();

        var verify = await script.VerifyAsync();
        Assert.Equal(1, verify.ExitCode);
        Assert.Contains("IPv4: the jump to METADATA-PROXY is rule 2 of nat PREROUTING, not 1", verify.StandardError, StringComparison.Ordinal);

        (await script.InstallAsync()).EnsureSuccess();
        var rules = await NodeTables.NatRulesAsync(lab, IptablesBackend.Nft, 4);
        Assert.Equal(Jump, rules[0]);
        Assert.Single(rules, r => r.EndsWith("-j METADATA-PROXY", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Uninstall_AfterInstall_RestoresEveryTableAndLoopbackExactly()
    {
        await LabRequirements.SkipUnlessAvailableAsync("iptables-nft", "ip6tables-nft", "iptables-legacy", "conntrack");
        await using var lab = await NetworkNamespaceLab.CreateAsync(Ct);
        await NodeTables.SeedKubeProxyRulesAsync(lab, IptablesBackend.Nft);
        var before = await SnapshotAsync(lab);
        var script = new InterceptionScript(lab);

        (await script.InstallAsync()).EnsureSuccess();
        Assert.NotEqual(before, await SnapshotAsync(lab));
        var uninstall = await script.UninstallAsync();

        Assert.True(uninstall.Succeeded, uninstall.ToString());
        Assert.Equal(before, await SnapshotAsync(lab));
        Assert.DoesNotContain("169.254.169.252", await NodeTables.LoopbackAddressesAsync(lab), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Install_TwiceWithHostInterception_LeavesOneOutputJumpAtPositionOneAndOneHostRulePerFamily()
    {
        await LabRequirements.SkipUnlessAvailableAsync("iptables-nft", "ip6tables-nft", "conntrack");
        await using var lab = await NetworkNamespaceLab.CreateAsync(Ct);
        await NodeTables.SeedKubeProxyRulesAsync(lab, IptablesBackend.Nft);
        var script = new InterceptionScript(lab);
        var environment = new Dictionary<string, string> { ["HOST_INTERCEPTION"] = "on" };

        (await script.InstallAsync(environment)).EnsureSuccess();
        (await script.InstallAsync(environment)).EnsureSuccess();

        await AssertInstalledOnceAsync(lab);
        foreach (var family in new[] { 4, 6 })
        {
            var output = (await NodeTables.NatRulesAsync(lab, IptablesBackend.Nft, family)).Where(r => r.StartsWith("-A OUTPUT ", StringComparison.Ordinal)).ToList();
            Assert.Equal([HostJump, "-A OUTPUT -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES"], output);
            Assert.Single(await NodeTables.NatRulesAsync(lab, IptablesBackend.Nft, family), r => r.StartsWith("-A METADATA-PROXY-HOST ", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task Uninstall_AfterInstallWithHostInterceptionAndHostDns_RestoresTablesAndHostsFileExactlyWhateverTheSettingsNow()
    {
        await LabRequirements.SkipUnlessAvailableAsync("iptables-nft", "ip6tables-nft", "iptables-legacy", "conntrack");
        await using var lab = await NetworkNamespaceLab.CreateAsync(Ct);
        await NodeTables.SeedKubeProxyRulesAsync(lab, IptablesBackend.Nft);
        var script = new InterceptionScript(lab);
        await File.WriteAllTextAsync(script.HostsFile, "127.0.0.1 localhost\n::1 localhost\n", Ct);
        var before = await SnapshotAsync(lab) + await File.ReadAllTextAsync(script.HostsFile, Ct);

        (await script.InstallAsync(new Dictionary<string, string> { ["HOST_INTERCEPTION"] = "on", ["HOST_DNS"] = "on" })).EnsureSuccess();
        Assert.Contains("METADATA-PROXY-HOST", await SnapshotAsync(lab), StringComparison.Ordinal);
        // The admin turned both off (the defaults), then uninstalls.
        var uninstall = await script.UninstallAsync();

        Assert.True(uninstall.Succeeded, uninstall.ToString());
        Assert.Equal(before, await SnapshotAsync(lab) + await File.ReadAllTextAsync(script.HostsFile, Ct));
    }

    [Fact]
    public async Task Uninstall_AnotherChainAlsoJumpsToOurs_RemovesThatJumpTooAndRestoresEveryTable()
    {
        await LabRequirements.SkipUnlessAvailableAsync("iptables-nft", "ip6tables-nft", "iptables-legacy", "conntrack");
        await using var lab = await NetworkNamespaceLab.CreateAsync(Ct);
        await NodeTables.SeedKubeProxyRulesAsync(lab, IptablesBackend.Nft);
        var before = await SnapshotAsync(lab);
        var script = new InterceptionScript(lab);
        (await script.InstallAsync()).EnsureSuccess();
        // A jump the script never makes and does not look for first (it lists PREROUTING and OUTPUT only).
        (await lab.ExecAsync(lab.NodeNamespace, "iptables-nft", "-t", "nat", "-A", "KUBE-SERVICES", "-j", "METADATA-PROXY")).EnsureSuccess();

        var uninstall = await script.UninstallAsync();

        Assert.True(uninstall.Succeeded, uninstall.ToString());
        Assert.Contains("looking for jumps to them in the whole nat table", uninstall.StandardError, StringComparison.Ordinal);
        Assert.Equal(before, await SnapshotAsync(lab));
    }

    [Fact]
    public async Task Uninstall_NothingInstalled_SucceedsAndChangesNothing()
    {
        await LabRequirements.SkipUnlessAvailableAsync("iptables-nft", "ip6tables-nft", "iptables-legacy");
        await using var lab = await NetworkNamespaceLab.CreateAsync(Ct);
        await NodeTables.SeedKubeProxyRulesAsync(lab, IptablesBackend.Nft);
        var before = await SnapshotAsync(lab);
        var script = new InterceptionScript(lab);

        var first = await script.UninstallAsync();
        var second = await script.UninstallAsync();

        Assert.True(first.Succeeded, first.ToString());
        Assert.True(second.Succeeded, second.ToString());
        Assert.Equal(before, await SnapshotAsync(lab));
    }

    private static async Task AssertInstalledOnceAsync(NetworkNamespaceLab lab)
    {
        foreach (var family in new[] { 4, 6 })
        {
            var rules = await NodeTables.NatRulesAsync(lab, IptablesBackend.Nft, family);
            Assert.Equal(Jump, rules[0]);
            Assert.Single(rules, r => r.EndsWith("-j METADATA-PROXY", StringComparison.Ordinal));
            Assert.Single(rules, r => r.StartsWith("-A METADATA-PROXY ", StringComparison.Ordinal));
            Assert.Contains("-A PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES", rules);
        }
    }

    // Both backends and both families: uninstall looks in all of them, so it must change none of them.
    private static async Task<string> SnapshotAsync(NetworkNamespaceLab lab) =>
        string.Join(
            "\n---\n",
            await NodeTables.SaveAsync(lab, IptablesBackend.Nft, 4),
            await NodeTables.SaveAsync(lab, IptablesBackend.Nft, 6),
            await NodeTables.SaveAsync(lab, IptablesBackend.Legacy, 4),
            await NodeTables.SaveAsync(lab, IptablesBackend.Legacy, 6),
            await NodeTables.LoopbackAddressesAsync(lab));
}
