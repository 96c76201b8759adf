using MetadataProxy.EndToEnd.Lab;

namespace MetadataProxy.EndToEnd.Iptables;

/// <summary>
/// HOST_INTERCEPTION: what processes of the node's own network namespace (host processes, hostNetwork pods) see, the
/// server's user excepted, and the refusal on a Google Compute Engine VM, whose own metadata server must keep
/// answering the host.
/// </summary>
public sealed class HostInterceptionTests
{
    private const string HostJump = "-A OUTPUT -m comment --comment \"metadata-proxy: host metadata traffic\" -j METADATA-PROXY-HOST";
    private const int ServerUid = 1654;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static Dictionary<string, string> HostInterception(string mode = "on") => new() { ["HOST_INTERCEPTION"] = mode };

    [Fact]
    public async Task Install_HostInterceptionOn_NodeProcessReachesServerInsteadOfCloud()
    {
        await LabRequirements.SkipUnlessAvailableAsync("iptables-nft", "curl", "conntrack");
        await using var lab = await NetworkNamespaceLab.CreateAsync(Ct);
        await NodeTables.SeedKubeProxyRulesAsync(lab, IptablesBackend.Nft);
        var cloud = lab.StartStandIn(lab.CloudNamespace, new IPEndPoint(LabNetwork.Metadata4, 80), "cloud");

        var script = new InterceptionScript(lab);
        var install = await script.InstallAsync(HostInterception());
        lab.StartStandIn(lab.NodeNamespace, new IPEndPoint(LabNetwork.Proxy4, LabNetwork.ProxyPort), "node");
        var answer = await lab.CurlAsync(lab.NodeNamespace, "http://169.254.169.254/computeMetadata/v1/", Ct);

        Assert.True(install.Succeeded, install.ToString());
        // No DMI file in the lab: the check cannot tell, and says so instead of passing quietly.
        Assert.Contains($"cannot read {script.DmiProductNameFile} (DMI_PRODUCT_NAME_FILE); assuming this is not a Google Compute Engine VM", install.StandardError, StringComparison.Ordinal);
        // The server sees the node's own address: Identity:HostNetworkPolicy decides what it gets.
        Assert.Equal($"node saw {LabNetwork.NodeUplink4}\n", answer.StandardOutput);
        Assert.Empty(cloud.Connections);
        var rules = await NodeTables.NatRulesAsync(lab, IptablesBackend.Nft, 4);
        Assert.Equal(HostJump, rules.First(r => r.StartsWith("-A OUTPUT ", StringComparison.Ordinal)));
        Assert.Contains("-A OUTPUT -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES", rules);
        Assert.Equal(
            "-A METADATA-PROXY-HOST -d 169.254.169.254/32 -p tcp -m tcp --dport 80 -m owner ! --uid-owner 1654 -m comment --comment \"metadata-proxy: host processes to the node metadata server\" -j DNAT --to-destination 169.254.169.252:8988",
            Assert.Single(rules, r => r.StartsWith("-A METADATA-PROXY-HOST ", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Install_HostInterceptionOn_ServerUserStillReachesCloudAndOtherUsersDoNot()
    {
        await LabRequirements.SkipUnlessAvailableAsync("iptables-nft", "curl", "conntrack", "setpriv");
        await using var lab = await NetworkNamespaceLab.CreateAsync(Ct);
        await NodeTables.SeedKubeProxyRulesAsync(lab, IptablesBackend.Nft);
        lab.StartStandIn(lab.CloudNamespace, new IPEndPoint(LabNetwork.Metadata4, 80), "cloud");

        (await new InterceptionScript(lab).InstallAsync(HostInterception())).EnsureSuccess();
        lab.StartStandIn(lab.NodeNamespace, new IPEndPoint(LabNetwork.Proxy4, LabNetwork.ProxyPort), "node");

        // The server's passthrough to the VM's metadata server must never loop back into the server.
        Assert.Equal($"cloud saw {LabNetwork.NodeUplink4}\n", (await CurlAsUserAsync(lab, ServerUid, "http://169.254.169.254/")).StandardOutput);
        Assert.Equal($"node saw {LabNetwork.NodeUplink4}\n", (await CurlAsUserAsync(lab, ServerUid + 1, "http://169.254.169.254/")).StandardOutput);
    }

    [Fact]
    public async Task Install_HostInterceptionOnWithIPv6_NodeProcessReachesServerOverIPv6ButServerUserDoesNot()
    {
        await LabRequirements.SkipUnlessAvailableAsync("iptables-nft", "ip6tables-nft", "curl", "conntrack", "setpriv");
        await using var lab = await NetworkNamespaceLab.CreateAsync(Ct);
        await NodeTables.SeedKubeProxyRulesAsync(lab, IptablesBackend.Nft);
        var cloud = lab.StartStandIn(lab.CloudNamespace, new IPEndPoint(LabNetwork.Metadata6, 80), "cloud");
        var environment = HostInterception();
        environment["IPV6"] = "on";

        (await new InterceptionScript(lab).InstallAsync(environment)).EnsureSuccess();
        lab.StartStandIn(lab.NodeNamespace, new IPEndPoint(LabNetwork.Proxy6, LabNetwork.ProxyPort), "node");

        Assert.Equal($"node saw {LabNetwork.NodeUplink6}\n", (await lab.CurlAsync(lab.NodeNamespace, "http://[fd20:ce::254]/", Ct)).StandardOutput);
        Assert.Equal($"node saw {LabNetwork.NodeUplink6}\n", (await CurlAsUserAsync(lab, ServerUid + 1, "http://[fd20:ce::254]/")).StandardOutput);
        Assert.Empty(cloud.Connections);
        Assert.Equal($"cloud saw {LabNetwork.NodeUplink6}\n", (await CurlAsUserAsync(lab, ServerUid, "http://[fd20:ce::254]/")).StandardOutput);
        Assert.Equal(HostJump, (await NodeTables.NatRulesAsync(lab, IptablesBackend.Nft, 6)).First(r => r.StartsWith("-A OUTPUT ", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Install_HostInterceptionTurnedOff_RemovesHostChainAndNodeReachesCloudAgain()
    {
        await LabRequirements.SkipUnlessAvailableAsync("iptables-nft", "ip6tables-nft", "curl", "conntrack");
        await using var lab = await NetworkNamespaceLab.CreateAsync(Ct);
        await NodeTables.SeedKubeProxyRulesAsync(lab, IptablesBackend.Nft);
        var outputBefore = await OutputRulesAsync(lab);
        lab.StartStandIn(lab.CloudNamespace, new IPEndPoint(LabNetwork.Metadata4, 80), "cloud");
        var script = new InterceptionScript(lab);
        (await script.InstallAsync(HostInterception())).EnsureSuccess();

        // The DaemonSet's init container runs install again with the new setting (off is the default).
        var reinstall = await script.InstallAsync();
        lab.StartStandIn(lab.NodeNamespace, new IPEndPoint(LabNetwork.Proxy4, LabNetwork.ProxyPort), "node");

        Assert.True(reinstall.Succeeded, reinstall.ToString());
        Assert.Contains("IPv4: HOST_INTERCEPTION is off: removing METADATA-PROXY-HOST", reinstall.StandardError, StringComparison.Ordinal);
        Assert.Equal(outputBefore, await OutputRulesAsync(lab));
        Assert.Equal($"cloud saw {LabNetwork.NodeUplink4}\n", (await lab.CurlAsync(lab.NodeNamespace, "http://169.254.169.254/", Ct)).StandardOutput);
    }

    [Theory]
    [InlineData("Google Compute Engine\n")]
    [InlineData("Google\n")]
    public async Task Install_HostInterceptionOnGoogleComputeEngine_RefusesWithOneLineAndChangesNothing(string productName)
    {
        await LabRequirements.SkipUnlessAvailableAsync("iptables-nft", "ip6tables-nft", "conntrack");
        await using var lab = await NetworkNamespaceLab.CreateAsync(Ct);
        await NodeTables.SeedKubeProxyRulesAsync(lab, IptablesBackend.Nft);
        var script = new InterceptionScript(lab);
        await File.WriteAllTextAsync(script.DmiProductNameFile, productName, Ct);
        await File.WriteAllTextAsync(script.HostsFile, "127.0.0.1 localhost\n", Ct);
        var before = await SnapshotAsync(lab, script);
        var environment = HostInterception();
        environment["HOST_DNS"] = "on";

        var install = await script.InstallAsync(environment);

        Assert.Equal(2, install.ExitCode);
        Assert.Equal(
            $"metadata-proxy-iptables: configuration: HOST_INTERCEPTION=on refused: this is a Google Compute Engine VM (DMI product name '{productName.TrimEnd()}' in {script.DmiProductNameFile}), whose own metadata server must keep answering the host; set HOST_INTERCEPTION=force to intercept anyway\n",
            install.StandardError);
        Assert.Equal(before, await SnapshotAsync(lab, script));
    }

    [Fact]
    public async Task Install_HostInterceptionForcedOnGoogleComputeEngine_InterceptsAndSaysSo()
    {
        await LabRequirements.SkipUnlessAvailableAsync("iptables-nft", "curl", "conntrack");
        await using var lab = await NetworkNamespaceLab.CreateAsync(Ct);
        await NodeTables.SeedKubeProxyRulesAsync(lab, IptablesBackend.Nft);
        var cloud = lab.StartStandIn(lab.CloudNamespace, new IPEndPoint(LabNetwork.Metadata4, 80), "cloud");
        var script = new InterceptionScript(lab);
        await File.WriteAllTextAsync(script.DmiProductNameFile, "Google Compute Engine\n", Ct);

        var install = await script.InstallAsync(HostInterception("force"));
        lab.StartStandIn(lab.NodeNamespace, new IPEndPoint(LabNetwork.Proxy4, LabNetwork.ProxyPort), "node");

        Assert.True(install.Succeeded, install.ToString());
        Assert.Contains(
            "HOST_INTERCEPTION=force on a Google Compute Engine VM ('Google Compute Engine'): the host's requests go to MetadataProxy",
            install.StandardError,
            StringComparison.Ordinal);
        Assert.Equal($"node saw {LabNetwork.NodeUplink4}\n", (await lab.CurlAsync(lab.NodeNamespace, "http://169.254.169.254/", Ct)).StandardOutput);
        Assert.Empty(cloud.Connections);
    }

    [Fact]
    public async Task Install_DefaultsOnGoogleComputeEngine_InterceptsPodsAndLeavesOutputUntouched()
    {
        await LabRequirements.SkipUnlessAvailableAsync("iptables-nft", "conntrack");
        await using var lab = await NetworkNamespaceLab.CreateAsync(Ct);
        await NodeTables.SeedKubeProxyRulesAsync(lab, IptablesBackend.Nft);
        var outputBefore = await OutputRulesAsync(lab);
        var script = new InterceptionScript(lab);
        await File.WriteAllTextAsync(script.DmiProductNameFile, "Google Compute Engine\n", Ct);

        var install = await script.InstallAsync();

        Assert.True(install.Succeeded, install.ToString());
        Assert.Equal(outputBefore, await OutputRulesAsync(lab));
        Assert.Contains("-j METADATA-PROXY", string.Join('\n', await NodeTables.NatRulesAsync(lab, IptablesBackend.Nft, 4)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Uninstall_LegacyNodeWithHostInterception_InterceptedThenRestoresLegacyTablesExactly()
    {
        await LabRequirements.SkipUnlessAvailableAsync("iptables-legacy", "ip6tables-legacy", "iptables-nft", "curl", "conntrack");
        await using var lab = await NetworkNamespaceLab.CreateAsync(Ct);
        await NodeTables.SeedKubeProxyRulesAsync(lab, IptablesBackend.Legacy);
        var before = await NodeTables.SaveAsync(lab, IptablesBackend.Legacy, 4) + await NodeTables.SaveAsync(lab, IptablesBackend.Legacy, 6);
        var script = new InterceptionScript(lab);
        (await script.InstallAsync(HostInterception())).EnsureSuccess();
        lab.StartStandIn(lab.NodeNamespace, new IPEndPoint(LabNetwork.Proxy4, LabNetwork.ProxyPort), "node");
        Assert.Equal($"node saw {LabNetwork.NodeUplink4}\n", (await lab.CurlAsync(lab.NodeNamespace, "http://169.254.169.254/", Ct)).StandardOutput);

        // With the default setting: uninstall removes the host chain whatever HOST_INTERCEPTION says now.
        var uninstall = await script.UninstallAsync();

        Assert.True(uninstall.Succeeded, uninstall.ToString());
        Assert.Equal(before, await NodeTables.SaveAsync(lab, IptablesBackend.Legacy, 4) + await NodeTables.SaveAsync(lab, IptablesBackend.Legacy, 6));
    }

    // curl as another user, without a login: setpriv changes only the ids (no supplementary groups kept).
    private static Task<ProcessResult> CurlAsUserAsync(NetworkNamespaceLab lab, int uid, string url) =>
        lab.ExecAsync(
            lab.NodeNamespace,
            ["setpriv", $"--reuid={uid}", $"--regid={uid}", "--clear-groups", "--",
                "curl", "-q", "--noproxy", "*", "--silent", "--show-error", "--globoff", "--connect-timeout", "5", "--max-time", "10", url],
            environment: null,
            cancellationToken: Ct);

    private static async Task<IReadOnlyList<string>> OutputRulesAsync(NetworkNamespaceLab lab) =>
        [
            .. (await NodeTables.NatRulesAsync(lab, IptablesBackend.Nft, 4)).Where(r => r.StartsWith("-A OUTPUT ", StringComparison.Ordinal)),
            .. (await NodeTables.NatRulesAsync(lab, IptablesBackend.Nft, 6)).Where(r => r.StartsWith("-A OUTPUT ", StringComparison.Ordinal)),
        ];

    private static async Task<string> SnapshotAsync(NetworkNamespaceLab lab, InterceptionScript script) =>
        string.Join(
            "\n---\n",
            await NodeTables.SaveAsync(lab, IptablesBackend.Nft, 4),
            await NodeTables.SaveAsync(lab, IptablesBackend.Nft, 6),
            await NodeTables.LoopbackAddressesAsync(lab),
            await File.ReadAllTextAsync(script.HostsFile, Ct));
}
