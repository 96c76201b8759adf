using System.Text;
using MetadataProxy.EndToEnd.Lab;

namespace MetadataProxy.EndToEnd.Iptables;

/// <summary>
/// <c>HOST_BOOT=systemd</c> (issue 10, point 2): install puts a oneshot unit, a copy of the script and its settings onto
/// the host (a temporary directory as the host's root here), uninstall leaves the host's tree as it was, and the unit's
/// own command, run in a fresh node, creates the interception. There is no systemd to boot here: the unit is checked
/// by <c>systemd-analyze verify</c> and by running its ExecStart with its EnvironmentFile.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class BootUnitTests
{
    private const string UnitPath = "etc/systemd/system/metadata-proxy-interception.service";
    private const string LinkPath = "etc/systemd/system/kubelet.service.wants/metadata-proxy-interception.service";
    private const string LibraryPath = "usr/local/lib/metadata-proxy";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Install_HostBootSystemd_WritesTheUnitBeforeTheKubeletWithTheScriptAndTheseSettings()
    {
        await using var lab = await CreateLabAsync();
        var root = HostRoot(lab, kubeletWants: false);
        var script = new InterceptionScript(lab);

        var install = await script.InstallAsync(Boot(root));

        install.EnsureSuccess();
        var unit = await File.ReadAllLinesAsync(Path.Combine(root, UnitPath), Ct);
        Assert.Equal("# metadata-proxy: installed by metadata-proxy-iptables install (HOST_BOOT=systemd); uninstall removes it", unit[0]);
        Assert.Contains("Before=kubelet.service", unit);
        Assert.Contains("After=network-online.target", unit);
        Assert.Contains("Type=oneshot", unit);
        Assert.Contains("RemainAfterExit=yes", unit);
        Assert.Contains("EnvironmentFile=/usr/local/lib/metadata-proxy/interception.env", unit);
        Assert.Contains("ExecStart=/usr/local/lib/metadata-proxy/metadata-proxy-iptables install", unit);
        Assert.Contains("WantedBy=kubelet.service", unit);
        // What `systemctl enable` would link, with the host's path (the container's /host is not the host's root).
        Assert.Equal("/etc/systemd/system/metadata-proxy-interception.service", new FileInfo(Path.Combine(root, LinkPath)).LinkTarget);
        Assert.Equal(await File.ReadAllBytesAsync(RepositoryFiles.InterceptionScript, Ct), await File.ReadAllBytesAsync(Path.Combine(root, LibraryPath, "metadata-proxy-iptables"), Ct));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute,
            File.GetUnixFileMode(Path.Combine(root, LibraryPath, "metadata-proxy-iptables")));
        var settings = await File.ReadAllLinesAsync(Path.Combine(root, LibraryPath, "interception.env"), Ct);
        Assert.Contains("IPV6=off", settings);
        Assert.Contains("METADATA_PROXY_PORT=8988", settings);
        Assert.Contains("HOSTS_FILE=/etc/hosts", settings);
        Assert.Contains("HOST_BOOT=boot-unit", settings);
        Assert.Contains($"HOST_BOOT=systemd: /etc/systemd/system/metadata-proxy-interception.service runs /usr/local/lib/metadata-proxy/metadata-proxy-iptables install before kubelet.service from the next boot on (host root {root})", install.StandardError, StringComparison.Ordinal);
        var verify = await script.VerifyAsync(Boot(root));
        Assert.Equal($"metadata-proxy-iptables: verify: ok (backend nft, IPv4, all interfaces but eth0, boot unit under {root})\n", verify.StandardOutput);
    }

    [Fact]
    public async Task Unit_SystemdAnalyzeVerify_FindsNothingWrong()
    {
        await LabRequirements.SkipUnlessAvailableAsync("systemd-analyze");
        await using var lab = await CreateLabAsync();
        var root = HostRoot(lab, kubeletWants: false);
        (await new InterceptionScript(lab).InstallAsync(Boot(root))).EnsureSuccess();
        // systemd-analyze checks that ExecStart exists: the unit as the host sees it, its paths under the test's root.
        var unit = Path.Combine(lab.WorkDirectory, "metadata-proxy-interception.service");
        await File.WriteAllTextAsync(unit, (await File.ReadAllTextAsync(Path.Combine(root, UnitPath), Ct)).Replace("=/usr/local/lib/", $"={root}/usr/local/lib/", StringComparison.Ordinal), Ct);

        var analyze = await ProcessRunner.RunAsync(["systemd-analyze", "verify", unit], cancellationToken: Ct);

        Assert.True(analyze.ExitCode == 0 && analyze.Output.Length == 0, analyze.ToString());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Uninstall_AfterHostBoot_LeavesTheHostTreeAsItWas(bool kubeletWantsExisted)
    {
        await using var lab = await CreateLabAsync();
        var root = HostRoot(lab, kubeletWantsExisted);
        var before = Tree(root);
        var script = new InterceptionScript(lab);
        (await script.InstallAsync(Boot(root))).EnsureSuccess();
        Assert.NotEqual(before, Tree(root));

        var uninstall = await script.UninstallAsync(new Dictionary<string, string> { ["HOST_ROOT"] = root });

        uninstall.EnsureSuccess();
        Assert.Equal(before, Tree(root));
        Assert.Contains($"removed metadata-proxy-interception.service and /usr/local/lib/metadata-proxy (host root {root})", uninstall.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Install_HostBootTurnedOff_RemovesTheUnitAndVerifyNamesALeftOver()
    {
        await using var lab = await CreateLabAsync();
        var root = HostRoot(lab, kubeletWants: false);
        var before = Tree(root);
        var script = new InterceptionScript(lab);
        (await script.InstallAsync(Boot(root))).EnsureSuccess();
        var off = new Dictionary<string, string> { ["IPV6"] = "off", ["HOST_ROOT"] = root };

        var leftOver = await script.VerifyAsync(off);
        var install = await script.InstallAsync(off);

        Assert.Equal(1, leftOver.ExitCode);
        Assert.Equal(
            $"metadata-proxy-iptables: verify: HOST_BOOT: {root}/{UnitPath} is left over while HOST_BOOT is off (install or uninstall removes it)\n",
            leftOver.StandardError);
        install.EnsureSuccess();
        Assert.Contains("HOST_BOOT is off: removed metadata-proxy-interception.service", install.StandardError, StringComparison.Ordinal);
        Assert.Equal(before, Tree(root));
    }

    [Fact]
    public async Task BootUnit_ItsCommandInAFreshNode_CreatesTheInterception()
    {
        await using var lab = await CreateLabAsync();
        var root = HostRoot(lab, kubeletWants: false);
        (await new InterceptionScript(lab).InstallAsync(Boot(root))).EnsureSuccess();
        var unit = await File.ReadAllLinesAsync(Path.Combine(root, UnitPath), Ct);
        var execStart = unit.Single(l => l.StartsWith("ExecStart=", StringComparison.Ordinal))["ExecStart=".Length..].Split(' ');
        var environmentFile = unit.Single(l => l.StartsWith("EnvironmentFile=", StringComparison.Ordinal))["EnvironmentFile=".Length..];
        // The booted node: a new lab, nothing installed, only the unit's command and its settings, as systemd runs them.
        await using var booted = await CreateLabAsync();
        var environment = (await File.ReadAllLinesAsync(root + environmentFile, Ct))
            .Where(l => !l.StartsWith('#'))
            .Select(l => l.Split('=', 2))
            .ToDictionary(p => p[0], p => p[1]);
        // Not this machine's lock and hosts file: the booted lab's.
        environment["METADATA_PROXY_LOCK_FILE"] = Path.Combine(booted.WorkDirectory, "iptables.lock");
        environment["HOSTS_FILE"] = Path.Combine(booted.WorkDirectory, "hosts");
        await File.WriteAllTextAsync(environment["HOSTS_FILE"], "127.0.0.1 localhost\n", Ct);
        var pod = await booted.CreatePodAsync("early", IPAddress.Parse("198.51.100.210"), Ct);

        var start = await booted.ExecAsync(booted.NodeNamespace, [root + execStart[0], .. execStart[1..]], environment, cancellationToken: Ct);

        Assert.True(start.ExitCode == 0, start.ToString());
        var verify = await new InterceptionScript(booted).VerifyAsync(new Dictionary<string, string> { ["IPV6"] = "off" });
        Assert.Equal("metadata-proxy-iptables: verify: ok (backend nft, IPv4, all interfaces but eth0)\n", verify.StandardOutput);
        booted.StartStandIn(booted.NodeNamespace, new IPEndPoint(LabNetwork.Proxy4, LabNetwork.ProxyPort), "node");
        var answer = await booted.CurlAsync(pod.Namespace, "http://169.254.169.254/computeMetadata/v1/", Ct);
        Assert.Equal("node saw 198.51.100.210\n", answer.StandardOutput);
    }

    [Fact]
    public async Task Install_HostBootWithoutTheHostDirectories_ExitsThreeNamingThem()
    {
        await using var lab = await CreateLabAsync();
        var root = Path.Combine(lab.WorkDirectory, "empty-host");
        Directory.CreateDirectory(root);

        var install = await new InterceptionScript(lab).InstallAsync(Boot(root));

        Assert.Equal(3, install.ExitCode);
        Assert.EndsWith(
            $"metadata-proxy-iptables: HOST_BOOT=systemd but {root}/etc/systemd/system or {root}/usr/local/lib does not exist (mount the host's /etc/systemd/system and /usr/local/lib under HOST_ROOT={root})\n",
            install.StandardError,
            StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("HOST_BOOT", "yes", "configuration: HOST_BOOT='yes' is not off or systemd")]
    [InlineData("HOST_ROOT", "host", "configuration: HOST_ROOT='host' is not an absolute path")]
    public async Task Install_BadBootSetting_ExitsTwoNamingIt(string name, string value, string expected)
    {
        await using var lab = await CreateLabAsync();

        var install = await new InterceptionScript(lab).InstallAsync(new Dictionary<string, string> { ["IPV6"] = "off", [name] = value });

        Assert.Equal(2, install.ExitCode);
        Assert.Equal($"metadata-proxy-iptables: {expected}\n", install.StandardError);
    }

    private static async Task<NetworkNamespaceLab> CreateLabAsync()
    {
        await LabRequirements.SkipUnlessAvailableAsync("iptables-nft", "conntrack");
        var lab = await NetworkNamespaceLab.CreateAsync("mpxcn", Ct);
        try
        {
            await NodeTables.SeedKubeProxyRulesAsync(lab, IptablesBackend.Nft);
            return lab;
        }
        catch
        {
            await lab.DisposeAsync();
            throw;
        }
    }

    private static Dictionary<string, string> Boot(string root) => new() { ["IPV6"] = "off", ["HOST_BOOT"] = "systemd", ["HOST_ROOT"] = root };

    /// <summary>A host's root with what a systemd node has where the unit goes (and something of its own in each place).</summary>
    private static string HostRoot(NetworkNamespaceLab lab, bool kubeletWants)
    {
        var root = Path.Combine(lab.WorkDirectory, "host");
        Directory.CreateDirectory(Path.Combine(root, "etc/systemd/system"));
        Directory.CreateDirectory(Path.Combine(root, "usr/local/lib/other"));
        File.WriteAllText(Path.Combine(root, "etc/systemd/system/kubelet.service"), "[Service]\nExecStart=/usr/bin/kubelet\n");
        if (kubeletWants)
        {
            Directory.CreateDirectory(Path.Combine(root, "etc/systemd/system/kubelet.service.wants"));
            File.CreateSymbolicLink(Path.Combine(root, "etc/systemd/system/kubelet.service.wants/containerd.service"), "/etc/systemd/system/containerd.service");
        }

        return root;
    }

    /// <summary>Every path under <paramref name="root"/> with its type, mode, link target and content.</summary>
    private static string Tree(string root)
    {
        var text = new StringBuilder();
        foreach (var path in Directory.EnumerateFileSystemEntries(root, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var info = new FileInfo(path);
            var kind = info.LinkTarget is { } target ? $"link {target}"
                : Directory.Exists(path) ? $"directory {File.GetUnixFileMode(path)}"
                : $"file {File.GetUnixFileMode(path)} {Convert.ToHexString(File.ReadAllBytes(path))}";
            text.Append(Path.GetRelativePath(root, path)).Append(' ').Append(kind).Append('\n');
        }

        return text.ToString();
    }
}
