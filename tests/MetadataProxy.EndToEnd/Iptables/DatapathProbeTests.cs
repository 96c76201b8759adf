using MetadataProxy.EndToEnd.Lab;

namespace MetadataProxy.EndToEnd.Iptables;

/// <summary>
/// <c>verify --probe</c> (issue 10, point 3): a request from a throwaway pod-like namespace must reach the DNAT target
/// and come back with the nonce; a rule that lets pod traffic skip the DNAT (as Cilium's eBPF host routing does)
/// fails it with exit 4 and Cilium's options, although every rule is in place; nothing of the probe stays behind.
/// </summary>
public sealed class DatapathProbeTests
{
    // The probe's addresses stay in 198.51.100.192/26 (the lab's pods use the rest of 198.51.100.0/24).
    private const string ProbeAddress = "198.51.100.200";

    private static readonly Dictionary<string, string> Probe = new() { ["IPV6"] = "off", ["PROBE_ADDRESS"] = ProbeAddress, ["PROBE_TIMEOUT"] = "3" };

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task VerifyProbe_RulesInPlace_PassesWritesTheMarkerAndLeavesNothingBehind()
    {
        await using var lab = await CreateLabAsync();
        var script = new InterceptionScript(lab);
        (await script.InstallAsync(Probe)).EnsureSuccess();
        var before = await SnapshotAsync(lab);
        var marker = Path.Combine(lab.WorkDirectory, "probe-passed");

        var probe = await script.VerifyProbeAsync(new Dictionary<string, string>(Probe) { ["PROBE_MARKER_FILE"] = marker });

        Assert.Equal(0, probe.ExitCode);
        Assert.Equal(
            "metadata-proxy-iptables: verify: ok (backend nft, IPv4, all interfaces but eth0)\n"
            + $"metadata-proxy-iptables: verify --probe: ok (a request to 169.254.169.254:80 from {ProbeAddress} in a pod-like namespace reached 169.254.169.252:8988)\n",
            probe.StandardOutput);
        var lines = (await File.ReadAllTextAsync(marker, Ct)).Split('\n');
        Assert.Equal("target=169.254.169.252:8988", lines[0]);
        Assert.Equal($"source={ProbeAddress}", lines[1]);
        Assert.Matches("^nonce=[0-9a-f]{32}$", lines[2]);
        Assert.Equal(before, await SnapshotAsync(lab));
    }

    [Fact]
    public async Task VerifyProbe_PodCidrsWithoutProbeAddress_ProbesFromTheLastButOneAddressOfTheRange()
    {
        await using var lab = await CreateLabAsync();
        var script = new InterceptionScript(lab);
        var environment = new Dictionary<string, string> { ["IPV6"] = "off", ["POD_CIDRS"] = "198.51.100.192/26" };
        (await script.InstallAsync(environment)).EnsureSuccess();

        var probe = await script.VerifyProbeAsync(environment);

        Assert.Equal(0, probe.ExitCode);
        Assert.EndsWith(
            "verify --probe: ok (a request to 169.254.169.254:80 from 198.51.100.254 in a pod-like namespace reached 169.254.169.252:8988)\n",
            probe.StandardOutput,
            StringComparison.Ordinal);
    }

    [Fact]
    public async Task VerifyProbe_UntrackedBeforeNat_ExitsFourNamingCiliumWhileTheRulesVerify()
    {
        await using var lab = await CreateLabAsync();
        var script = new InterceptionScript(lab);
        (await script.InstallAsync(Probe)).EnsureSuccess();
        var before = await SnapshotAsync(lab);
        // What Cilium's eBPF host routing amounts to for netfilter: pod packets never meet nat PREROUTING. An untracked
        // packet skips every nat chain; the rules themselves stay exactly as installed.
        await BypassAsync(lab);

        var probe = await script.VerifyProbeAsync(Probe);

        Assert.Equal(4, probe.ExitCode);
        Assert.Equal("metadata-proxy-iptables: verify: ok (backend nft, IPv4, all interfaces but eth0)\n", probe.StandardOutput);
        var error = Assert.Single(probe.StandardError.TrimEnd().Split('\n'));
        Assert.StartsWith(
            "metadata-proxy-iptables: verify --probe: the rules are in place, but a pod's request to 169.254.169.254:80 did not reach 169.254.169.252:8988: ",
            error,
            StringComparison.Ordinal);
        // The lab's cloud holds 169.254.169.254 with nothing listening: the escaped request is refused there.
        Assert.Contains("Connection refused", error, StringComparison.Ordinal);
        Assert.Contains("Cilium", error, StringComparison.Ordinal);
        Assert.Contains("bpf.hostLegacyRouting=true", error, StringComparison.Ordinal);
        Assert.Contains("socketLB.hostNamespaceOnly=true", error, StringComparison.Ordinal);
        Assert.Equal(before, await SnapshotAsync(lab));
    }

    [Fact]
    public async Task VerifyProbe_BypassAndTheCloudsMetadataServerAnswers_ExitsFourSayingSomethingElseAnswered()
    {
        await using var lab = await CreateLabAsync();
        var cloud = lab.StartStandIn(lab.CloudNamespace, new IPEndPoint(LabNetwork.Metadata4, 80), "cloud");
        var script = new InterceptionScript(lab);
        (await script.InstallAsync(Probe)).EnsureSuccess();
        await BypassAsync(lab);

        var probe = await script.VerifyProbeAsync(Probe);

        Assert.Equal(4, probe.ExitCode);
        Assert.Contains(
            "did not reach 169.254.169.252:8988: something else answered: \"HTTP/1.1 200 OK\" (without the nonce: the cloud's own metadata server?)",
            probe.StandardError,
            StringComparison.Ordinal);
        Assert.Contains("Cilium", probe.StandardError, StringComparison.Ordinal);
        var request = Assert.Single(cloud.Connections);
        Assert.Equal(IPAddress.Parse(ProbeAddress), request.RemoteAddress);
    }

    [Fact]
    public async Task VerifyProbe_AcceptBeforeTheJump_FailsTheRuleCheckBeforeProbing()
    {
        await using var lab = await CreateLabAsync();
        var script = new InterceptionScript(lab);
        (await script.InstallAsync(Probe)).EnsureSuccess();
        (await lab.ExecAsync(lab.NodeNamespace, "iptables-nft", "-t", "nat", "-I", "PREROUTING", "1", "-d", "169.254.169.254/32", "-j", "ACCEPT")).EnsureSuccess();
        var before = await SnapshotAsync(lab);

        var probe = await script.VerifyProbeAsync(Probe);

        Assert.Equal(1, probe.ExitCode);
        Assert.Equal("metadata-proxy-iptables: verify: IPv4: the jump to METADATA-PROXY is rule 2 of nat PREROUTING, not 1\n", probe.StandardError);
        Assert.Equal(before, await SnapshotAsync(lab));
    }

    [Fact]
    public async Task VerifyProbe_AnotherProgramListensOnTheTarget_ExitsFourNamingIt()
    {
        await using var lab = await CreateLabAsync();
        var script = new InterceptionScript(lab);
        (await script.InstallAsync(Probe)).EnsureSuccess();
        var other = lab.StartStandIn(lab.NodeNamespace, new IPEndPoint(LabNetwork.Proxy4, LabNetwork.ProxyPort), "other");

        var probe = await script.VerifyProbeAsync(Probe);

        Assert.Equal(4, probe.ExitCode);
        Assert.Contains("something listens on 169.254.169.252:8988 already", probe.StandardError, StringComparison.Ordinal);
        Assert.Contains(
            "The process listening on 169.254.169.252:8988 does not answer /metadata-proxy-canary/ (a MetadataProxy without the canary path, or another program)",
            probe.StandardError,
            StringComparison.Ordinal);
        // The datapath itself worked: the request reached the listener from the probe's address.
        Assert.Equal(IPAddress.Parse(ProbeAddress), Assert.Single(other.Connections).RemoteAddress);
    }

    [Fact]
    public async Task VerifyProbe_ProbeAddressOnTheNode_RefusesWithExitThreeAndChangesNothing()
    {
        await using var lab = await CreateLabAsync();
        var script = new InterceptionScript(lab);
        (await script.InstallAsync(Probe)).EnsureSuccess();
        var before = await SnapshotAsync(lab);

        // The pod bridge's own address: routing it to the probe's veth would take it from the node.
        var probe = await script.VerifyProbeAsync(new Dictionary<string, string>(Probe) { ["PROBE_ADDRESS"] = "198.51.100.1" });

        Assert.Equal(3, probe.ExitCode);
        Assert.Equal(
            "metadata-proxy-iptables: verify --probe: PROBE_ADDRESS 198.51.100.1 is in use on this node (an address or a /32 route); set another\n",
            probe.StandardError);
        Assert.Equal(before, await SnapshotAsync(lab));
    }

    [Theory]
    [InlineData("PROBE_ADDRESS", "127.0.0.5", "configuration: PROBE_ADDRESS='127.0.0.5' is not a usable IPv4 address")]
    [InlineData("PROBE_TIMEOUT", "0", "configuration: PROBE_TIMEOUT='0' is not a number of seconds (1-999)")]
    public async Task VerifyProbe_BadProbeSetting_ExitsTwoNamingIt(string name, string value, string expected)
    {
        await using var lab = await CreateLabAsync();

        var probe = await new InterceptionScript(lab).VerifyProbeAsync(new Dictionary<string, string>(Probe) { [name] = value });

        Assert.Equal(2, probe.ExitCode);
        Assert.Equal($"metadata-proxy-iptables: {expected}\n", probe.StandardError);
    }

    [Fact]
    public async Task Verify_UnknownOption_IsAUsageError()
    {
        await using var lab = await CreateLabAsync();

        var verify = await new InterceptionScript(lab).RunAsync("verify", Probe, wrapper: null, "--probes");

        Assert.Equal(2, verify.ExitCode);
        Assert.StartsWith("Usage: ", verify.StandardError, StringComparison.Ordinal);
    }

    private static async Task<NetworkNamespaceLab> CreateLabAsync()
    {
        await LabRequirements.SkipUnlessAvailableAsync("iptables-nft", "conntrack", "unshare", "nsenter", "socat", "timeout", "ss");
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

    // Both directions untracked, as traffic that eBPF forwards past netfilter: a reply that conntrack saw alone would be
    // an invalid packet to the node's forwarding rules.
    private static async Task BypassAsync(NetworkNamespaceLab lab)
    {
        foreach (var direction in new[] { "-d", "-s" })
            (await lab.ExecAsync(lab.NodeNamespace, "iptables-nft", "-t", "raw", "-I", "PREROUTING", direction, "169.254.169.254/32", "-j", "NOTRACK")).EnsureSuccess();
    }

    /// <summary>
    /// What the probe could leave behind in the node: interfaces, routes, neighbours, listeners, processes, and
    /// network namespaces named after the lab (the probe's own is unnamed and lives as long as its process).
    /// </summary>
    private static async Task<string> SnapshotAsync(NetworkNamespaceLab lab)
    {
        var parts = new List<string>();
        foreach (string[] command in (string[][])[["ip", "-o", "link", "show"], ["ip", "-4", "route", "show", "table", "all"], ["ss", "-Hltn"]])
            parts.Add((await lab.ExecAsync(lab.NodeNamespace, command)).EnsureSuccess().StandardOutput);
        // Neighbours the probe added (the node's others come and go with the traffic that escapes to the cloud).
        parts.Add(string.Join('\n', (await lab.ExecAsync(lab.NodeNamespace, "ip", "-4", "neigh", "show")).EnsureSuccess().StandardOutput
            .Split('\n').Where(line => line.Contains("mpxprobe", StringComparison.Ordinal) || line.StartsWith(ProbeAddress + " ", StringComparison.Ordinal))));
        parts.Add((await ProcessRunner.RunAsync(["ip", "netns", "pids", lab.NodeNamespace])).EnsureSuccess().StandardOutput);
        parts.Add(string.Join('\n', (await ProcessRunner.RunAsync(["ip", "netns", "list"])).EnsureSuccess().StandardOutput
            .Split('\n').Where(line => line.StartsWith(lab.Id, StringComparison.Ordinal)).Order(StringComparer.Ordinal)));
        return string.Join("\n--\n", parts);
    }
}
