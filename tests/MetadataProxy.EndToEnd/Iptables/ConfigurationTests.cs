using MetadataProxy.EndToEnd.Lab;

namespace MetadataProxy.EndToEnd.Iptables;

/// <summary>Bad settings stop the script before it changes anything, with one line per problem.</summary>
public sealed class ConfigurationTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Help_Always_DocumentsEveryCommandAndVariable()
    {
        if (LabRequirements.FindOnPath("bash") is null)
            Assert.Skip("The interception script needs bash.");

        // `help` only prints, so it is safe to run anywhere, as any user.
        var help = await ProcessRunner.RunAsync([RepositoryFiles.InterceptionScript, "help"], cancellationToken: Ct);

        Assert.Equal(0, help.ExitCode);
        foreach (var word in new[]
                 {
                     "install", "uninstall", "verify", "METADATA_PROXY_ADDRESS", "METADATA_PROXY_ADDRESS6", "METADATA_PROXY_PORT",
                     "UPLINK_INTERFACE", "POD_CIDRS", "IPV6", "IPTABLES_BACKEND", "METADATA_PROXY_LOCK_FILE", "HOST_INTERCEPTION",
                     "METADATA_PROXY_UID", "DMI_PRODUCT_NAME_FILE", "Google Compute Engine", "HOST_DNS", "HOSTS_FILE", "Exit status",
                 })
        {
            Assert.Contains(word, help.StandardOutput, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Install_LoopbackTarget_IsRefusedBeforeAnyChange()
    {
        await LabRequirements.SkipUnlessAvailableAsync("iptables-nft");
        await using var lab = await NetworkNamespaceLab.CreateAsync(Ct);
        await NodeTables.SeedKubeProxyRulesAsync(lab, IptablesBackend.Nft);
        var before = await NodeTables.SaveAsync(lab, IptablesBackend.Nft, 4);

        var install = await new InterceptionScript(lab).InstallAsync(new Dictionary<string, string> { ["METADATA_PROXY_ADDRESS"] = "127.0.0.1" });

        Assert.Equal(2, install.ExitCode);
        Assert.Equal(
            "metadata-proxy-iptables: configuration: METADATA_PROXY_ADDRESS='127.0.0.1' is a loopback address; use a link-local one such as 169.254.169.252\n",
            install.StandardError);
        Assert.Equal(before, await NodeTables.SaveAsync(lab, IptablesBackend.Nft, 4));
    }

    [Fact]
    public async Task Install_SeveralBadSettings_ReportsEachOnALine()
    {
        await LabRequirements.SkipUnlessAvailableAsync("iptables-nft");
        await using var lab = await NetworkNamespaceLab.CreateAsync(Ct);
        var environment = new Dictionary<string, string>
        {
            ["METADATA_PROXY_PORT"] = "70000",
            ["IPV6"] = "maybe",
            ["POD_CIDRS"] = "198.51.100.0/24,not-a-range",
            ["UPLINK_INTERFACE"] = "eth0; reboot",
        };

        var install = await new InterceptionScript(lab).InstallAsync(environment);

        Assert.Equal(2, install.ExitCode);
        Assert.Equal(
            [
                "metadata-proxy-iptables: configuration: METADATA_PROXY_PORT='70000' is not a port (1-65535)",
                "metadata-proxy-iptables: configuration: UPLINK_INTERFACE='eth0; reboot' is not an interface name",
                "metadata-proxy-iptables: configuration: POD_CIDRS: 'not-a-range' is not an address range such as 10.4.0.0/14 or fd00:10:4::/56",
                "metadata-proxy-iptables: configuration: IPV6='maybe' is not auto, on or off",
            ],
            install.StandardError.TrimEnd().Split('\n'));
    }

    [Fact]
    public async Task Install_NoDefaultRouteAndNoUplinkGiven_ExitsWithReason()
    {
        await LabRequirements.SkipUnlessAvailableAsync("iptables-nft", "conntrack");
        await using var lab = await NetworkNamespaceLab.CreateAsync(Ct);
        (await lab.ExecAsync(lab.NodeNamespace, "ip", "route", "del", "default")).EnsureSuccess();
        (await lab.ExecAsync(lab.NodeNamespace, "ip", "-6", "route", "del", "default")).EnsureSuccess();

        var install = await new InterceptionScript(lab).InstallAsync();

        Assert.Equal(3, install.ExitCode);
        Assert.Equal("metadata-proxy-iptables: cannot find the uplink: no default route; set UPLINK_INTERFACE or POD_CIDRS\n", install.StandardError);
    }

    [Fact]
    public async Task Install_BadHostSettings_ReportsEachOnALineBeforeAnyChange()
    {
        await LabRequirements.SkipUnlessAvailableAsync("iptables-nft");
        await using var lab = await NetworkNamespaceLab.CreateAsync(Ct);
        await NodeTables.SeedKubeProxyRulesAsync(lab, IptablesBackend.Nft);
        var before = await NodeTables.SaveAsync(lab, IptablesBackend.Nft, 4);
        var environment = new Dictionary<string, string>
        {
            ["HOST_INTERCEPTION"] = "yes",
            ["METADATA_PROXY_UID"] = "0",
            ["HOST_DNS"] = "maybe",
        };

        var install = await new InterceptionScript(lab).InstallAsync(environment);

        Assert.Equal(2, install.ExitCode);
        Assert.Equal(
            [
                "metadata-proxy-iptables: configuration: HOST_INTERCEPTION='yes' is not off, on or force",
                "metadata-proxy-iptables: configuration: METADATA_PROXY_UID=0 would exempt every root process (the kubelet among them) from host interception",
                "metadata-proxy-iptables: configuration: HOST_DNS='maybe' is not off or on",
            ],
            install.StandardError.TrimEnd().Split('\n'));
        Assert.Equal(before, await NodeTables.SaveAsync(lab, IptablesBackend.Nft, 4));
    }
}
