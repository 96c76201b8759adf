using MetadataProxy.EndToEnd.Lab;

namespace MetadataProxy.EndToEnd.Iptables;

/// <summary>The script finds the backend the node's rules live in, and says which capabilities each one needs.</summary>
public sealed class BackendTests
{
    private static readonly string[] OnlyNetAdmin = ["setpriv", "--bounding-set=-all,+net_admin", "--inh-caps=-all", "--"];
    private static readonly string[] NetAdminAndNetRaw = ["setpriv", "--bounding-set=-all,+net_admin,+net_raw", "--inh-caps=-all", "--"];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Install_LegacyNode_InstallsIntoLegacyTablesAndInterceptsPods()
    {
        await LabRequirements.SkipUnlessAvailableAsync("iptables-legacy", "ip6tables-legacy", "iptables-nft", "curl", "conntrack");
        await using var lab = await NetworkNamespaceLab.CreateAsync(Ct);
        await NodeTables.SeedKubeProxyRulesAsync(lab, IptablesBackend.Legacy);
        var pod = await lab.CreatePodAsync("pod", IPAddress.Parse("198.51.100.31"), Ct);
        lab.StartStandIn(lab.CloudNamespace, new IPEndPoint(LabNetwork.Metadata4, 80), "cloud");
        var nftBefore = await NodeTables.SaveAsync(lab, IptablesBackend.Nft, 4);
        var script = new InterceptionScript(lab);

        var install = await script.InstallAsync();
        lab.StartStandIn(lab.NodeNamespace, new IPEndPoint(LabNetwork.Proxy4, LabNetwork.ProxyPort), "node");

        Assert.True(install.Succeeded, install.ToString());
        Assert.Contains("verify: ok (backend legacy, IPv4+IPv6", install.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("-j METADATA-PROXY", string.Join('\n', await NodeTables.NatRulesAsync(lab, IptablesBackend.Legacy, 4)), StringComparison.Ordinal);
        Assert.Equal(nftBefore, await NodeTables.SaveAsync(lab, IptablesBackend.Nft, 4));
        Assert.Equal($"node saw {pod.IPv4}\n", (await lab.CurlAsync(pod.Namespace, "http://169.254.169.254/", Ct)).StandardOutput);
    }

    [Fact]
    public async Task Uninstall_LegacyNode_RestoresLegacyTablesExactly()
    {
        await LabRequirements.SkipUnlessAvailableAsync("iptables-legacy", "ip6tables-legacy", "iptables-nft", "conntrack");
        await using var lab = await NetworkNamespaceLab.CreateAsync(Ct);
        await NodeTables.SeedKubeProxyRulesAsync(lab, IptablesBackend.Legacy);
        var before = await NodeTables.SaveAsync(lab, IptablesBackend.Legacy, 4) + await NodeTables.SaveAsync(lab, IptablesBackend.Legacy, 6);
        var script = new InterceptionScript(lab);

        (await script.InstallAsync()).EnsureSuccess();
        (await script.UninstallAsync()).EnsureSuccess();

        Assert.Equal(before, await NodeTables.SaveAsync(lab, IptablesBackend.Legacy, 4) + await NodeTables.SaveAsync(lab, IptablesBackend.Legacy, 6));
    }

    [Fact]
    public async Task Install_NftNodeWithOnlyNetAdmin_Succeeds()
    {
        await LabRequirements.SkipUnlessAvailableAsync("iptables-nft", "conntrack", "setpriv");
        await using var lab = await NetworkNamespaceLab.CreateAsync(Ct);
        await NodeTables.SeedKubeProxyRulesAsync(lab, IptablesBackend.Nft);
        var script = new InterceptionScript(lab);

        var install = await script.RunAsync("install", wrapper: OnlyNetAdmin);
        var uninstall = await script.RunAsync("uninstall", wrapper: OnlyNetAdmin);

        Assert.True(install.Succeeded, install.ToString());
        Assert.True(uninstall.Succeeded, uninstall.ToString());
    }

    [Fact]
    public async Task Install_LegacyNodeWithoutNetRaw_FailsSayingWhyAndChangesNothing()
    {
        await LabRequirements.SkipUnlessAvailableAsync("iptables-legacy", "iptables-nft", "conntrack", "setpriv");
        await using var lab = await NetworkNamespaceLab.CreateAsync(Ct);
        await NodeTables.SeedKubeProxyRulesAsync(lab, IptablesBackend.Legacy);
        var nftBefore = await NodeTables.SaveAsync(lab, IptablesBackend.Nft, 4);
        var script = new InterceptionScript(lab);

        var withoutNetRaw = await script.RunAsync("install", wrapper: OnlyNetAdmin);

        // Never a silent guess of "no legacy rules here" that would put the rules into the wrong backend.
        Assert.Equal(3, withoutNetRaw.ExitCode);
        Assert.Contains("legacy iptables needs CAP_NET_RAW as well as CAP_NET_ADMIN", withoutNetRaw.StandardError, StringComparison.Ordinal);
        Assert.Equal(nftBefore, await NodeTables.SaveAsync(lab, IptablesBackend.Nft, 4));
        Assert.DoesNotContain("169.254.169.252", await NodeTables.LoopbackAddressesAsync(lab), StringComparison.Ordinal);
        var withNetRaw = await script.RunAsync("install", wrapper: NetAdminAndNetRaw);
        Assert.True(withNetRaw.Succeeded, withNetRaw.ToString());
    }
}
