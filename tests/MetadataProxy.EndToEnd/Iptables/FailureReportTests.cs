using MetadataProxy.EndToEnd.Lab;

namespace MetadataProxy.EndToEnd.Iptables;

/// <summary>
/// A failing iptables is reported as what happened to it: killed (the container's memory limit), a backend the kernel
/// lacks, or missing permissions, and NET_RAW is named only where legacy iptables needs it. The failures are made by
/// an <c>iptables-nft</c> placed first on PATH that does to itself what the kernel does (SIGKILL, as the OOM killer
/// sends) or prints what iptables-nft prints on a kernel without nf_tables; every other tool is the real one.
/// </summary>
public sealed class FailureReportTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("iptables-nft", "was killed (SIGKILL, exit 137): most likely out of memory; raise the container's memory limit")]
    [InlineData("iptables-nft-restore", "iptables-nft-restore was killed (SIGKILL, exit 137): most likely out of memory")]
    public async Task Install_ToolKilledBySigkill_SaysOutOfMemoryNotNetRawAndChangesNoTable(string tool, string report)
    {
        await LabRequirements.SkipUnlessAvailableAsync("iptables-nft", "conntrack");
        await using var lab = await NetworkNamespaceLab.CreateAsync(Ct);
        await NodeTables.SeedKubeProxyRulesAsync(lab, IptablesBackend.Nft);
        var before = await NodeTables.SaveAsync(lab, IptablesBackend.Nft, 4);
        var script = new InterceptionScript(lab);

        var install = await script.InstallAsync(WithFailingIptables(lab, "kill -KILL $$", tool));

        Assert.Equal(1, install.ExitCode);
        Assert.Contains(report, install.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("NET_RAW", install.StandardError, StringComparison.Ordinal);
        Assert.Equal(before, await NodeTables.SaveAsync(lab, IptablesBackend.Nft, 4));
    }

    [Fact]
    public async Task Verify_IptablesKilledBySigkill_SaysOutOfMemoryInsteadOfReportingMissingRules()
    {
        await LabRequirements.SkipUnlessAvailableAsync("iptables-nft", "conntrack");
        await using var lab = await NetworkNamespaceLab.CreateAsync(Ct);
        await NodeTables.SeedKubeProxyRulesAsync(lab, IptablesBackend.Nft);
        var script = new InterceptionScript(lab);
        (await script.InstallAsync()).EnsureSuccess();

        var verify = await script.VerifyAsync(WithFailingIptables(lab, "kill -KILL $$"));

        Assert.Equal(1, verify.ExitCode);
        Assert.Contains("most likely out of memory", verify.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("verify:", verify.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Install_NftBackendMissingFromKernel_SaysTheBackendFailsNotNetRaw()
    {
        await LabRequirements.SkipUnlessAvailableAsync("iptables-nft", "conntrack");
        await using var lab = await NetworkNamespaceLab.CreateAsync(Ct);
        await NodeTables.SeedKubeProxyRulesAsync(lab, IptablesBackend.Nft);
        var before = await NodeTables.SaveAsync(lab, IptablesBackend.Nft, 4);
        var script = new InterceptionScript(lab);

        var install = await script.InstallAsync(WithFailingIptables(
            lab, "echo 'iptables v1.8.9 (nf_tables): Could not fetch rule set generation id: Invalid argument' >&2; exit 1"));

        Assert.Equal(3, install.ExitCode);
        Assert.Contains(
            "the nft iptables backend does not work on this node: iptables v1.8.9 (nf_tables): Could not fetch rule set generation id: Invalid argument (set IPTABLES_BACKEND to the node's backend, nft or legacy)",
            install.StandardError,
            StringComparison.Ordinal);
        Assert.DoesNotContain("NET_RAW", install.StandardError, StringComparison.Ordinal);
        Assert.Equal(before, await NodeTables.SaveAsync(lab, IptablesBackend.Nft, 4));
    }

    [Fact]
    public async Task Install_IptablesFailsOtherwise_ReportsItsExitStatusAndLastLine()
    {
        await LabRequirements.SkipUnlessAvailableAsync("iptables-nft", "conntrack");
        await using var lab = await NetworkNamespaceLab.CreateAsync(Ct);
        var script = new InterceptionScript(lab);

        var install = await script.InstallAsync(WithFailingIptables(lab, "echo 'iptables: Resource temporarily unavailable.' >&2; exit 4"));

        Assert.Equal(1, install.ExitCode);
        Assert.Contains("-t nat -S PREROUTING failed (exit 4): iptables: Resource temporarily unavailable.", install.StandardError, StringComparison.Ordinal);
    }

    // IPv4 with the nft backend named, so that the first iptables (or iptables-restore) the script runs is the failing one.
    private static Dictionary<string, string> WithFailingIptables(NetworkNamespaceLab lab, string body, string tool = "iptables-nft")
    {
        var directory = Path.Combine(lab.WorkDirectory, "failing-bin");
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, tool);
        File.WriteAllText(path, $"#!/bin/sh\n{body}\n");
        if (OperatingSystem.IsLinux())
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return new Dictionary<string, string>
        {
            ["PATH"] = string.Join(':', directory, Environment.GetEnvironmentVariable("PATH") ?? "/usr/sbin:/usr/bin:/sbin:/bin", "/usr/sbin", "/sbin"),
            ["IPTABLES_BACKEND"] = "nft",
            ["IPV6"] = "off",
            ["UPLINK_INTERFACE"] = "eth0",
        };
    }
}
