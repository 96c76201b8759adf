using System.Globalization;
using MetadataProxy.EndToEnd.Lab;

namespace MetadataProxy.EndToEnd.Iptables;

/// <summary>
/// On a node with 10k kube-proxy services the script stays small: it lists only its own chains and the two it jumps
/// from, never whole tables (the init container's memory limit killed the version that did). Memory only: it is
/// deterministic enough to assert on a loaded machine, time is not (the benchmark's <c>script</c> command measures it).
/// </summary>
public sealed class ScaleTests
{
    private const int Services = 10_000;
    private const long PeakLimitKib = 16 * 1024;
    private static readonly TimeSpan LoadTimeout = TimeSpan.FromMinutes(5);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task InstallVerifyUninstall_10kKubeProxyServicesOnNft_EachStaysUnder16MiBAndUninstallRestoresTheTable()
    {
        await LabRequirements.SkipUnlessAvailableAsync("iptables-nft", "iptables-nft-restore", "conntrack", "/usr/bin/time");
        await using var lab = await NetworkNamespaceLab.CreateAsync(Ct);
        var tables = Path.Combine(lab.WorkDirectory, "kube-proxy-nat");
        await File.WriteAllTextAsync(tables, KubeProxyTables.RestoreInput(Services), Ct);
        (await lab.ExecAsync(lab.NodeNamespace, ["iptables-nft-restore", "--noflush", tables], null, LoadTimeout, Ct)).EnsureSuccess();
        var before = await SaveNatAsync(lab);
        Assert.True(before.Split('\n').Count(line => line.StartsWith("-A ", StringComparison.Ordinal)) > 5 * Services);
        var script = new InterceptionScript(lab);
        // IPv4 only: the 10k services are IPv4 ones; the other family is what every other test covers.
        var environment = new Dictionary<string, string> { ["IPV6"] = "off" };

        var install = await RunMeasuredAsync(lab, script, "install", environment);
        var verify = await RunMeasuredAsync(lab, script, "verify", environment);
        var installed = await NodeTables.NatRulesAsync(lab, IptablesBackend.Nft, 4);
        var uninstall = await RunMeasuredAsync(lab, script, "uninstall", environment);

        Assert.True(install.Result.Succeeded, install.Result.ToString());
        Assert.True(verify.Result.Succeeded, verify.Result.ToString());
        Assert.True(uninstall.Result.Succeeded, uninstall.Result.ToString());
        Assert.Contains("verify: ok (backend nft, IPv4,", install.Result.StandardOutput, StringComparison.Ordinal);
        Assert.StartsWith("-A PREROUTING -m comment --comment \"metadata-proxy: pod metadata traffic\" -j METADATA-PROXY", installed[0], StringComparison.Ordinal);
        Assert.All(
            new[] { install, verify, uninstall },
            run => Assert.True(run.PeakKib < PeakLimitKib, $"{run.Result.CommandLine}: peak RSS {run.PeakKib} KiB, limit {PeakLimitKib} KiB"));
        Assert.Equal(before, await SaveNatAsync(lab));
    }

    // The peak resident set of the largest process of the script's tree (GNU time's %M: the script, iptables, awk…).
    private static async Task<(ProcessResult Result, long PeakKib)> RunMeasuredAsync(
        NetworkNamespaceLab lab, InterceptionScript script, string command, IReadOnlyDictionary<string, string> environment)
    {
        var report = Path.Combine(lab.WorkDirectory, $"peak-{command}");
        var result = await script.RunAsync(command, environment, ["/usr/bin/time", "-o", report, "-f", "%M", "--"]);
        var lines = (await File.ReadAllLinesAsync(report, Ct)).Where(line => line.Length > 0).ToList();
        return (result, long.Parse(lines[^1], CultureInfo.InvariantCulture));
    }

    private static async Task<string> SaveNatAsync(NetworkNamespaceLab lab)
    {
        var saved = (await lab.ExecAsync(lab.NodeNamespace, ["iptables-nft-save", "-t", "nat"], null, LoadTimeout, Ct)).EnsureSuccess();
        return string.Join('\n', saved.StandardOutput.Split('\n').Where(line => !line.StartsWith('#')));
    }
}
