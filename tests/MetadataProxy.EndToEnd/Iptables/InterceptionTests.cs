using MetadataProxy.EndToEnd.Lab;

namespace MetadataProxy.EndToEnd.Iptables;

/// <summary>What pods, host processes and the cloud see once the script has installed the interception.</summary>
public sealed class InterceptionTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Install_PodsRequestMetadata_NodeServerAnswersWithEachPodsAddress()
    {
        await LabRequirements.SkipUnlessAvailableAsync("iptables-nft", "curl", "conntrack");
        await using var lab = await NetworkNamespaceLab.CreateAsync(Ct);
        await NodeTables.SeedKubeProxyRulesAsync(lab, IptablesBackend.Nft);
        var first = await lab.CreatePodAsync("first", IPAddress.Parse("198.51.100.11"), Ct);
        var second = await lab.CreatePodAsync("second", IPAddress.Parse("198.51.100.12"), Ct);
        var cloud = lab.StartStandIn(lab.CloudNamespace, new IPEndPoint(LabNetwork.Metadata4, 80), "cloud");

        (await new InterceptionScript(lab).InstallAsync()).EnsureSuccess();
        lab.StartStandIn(lab.NodeNamespace, new IPEndPoint(LabNetwork.Proxy4, LabNetwork.ProxyPort), "node");

        foreach (var pod in new[] { first, second })
        {
            var answer = await lab.CurlAsync(pod.Namespace, "http://169.254.169.254/computeMetadata/v1/", Ct);
            Assert.Equal(0, answer.ExitCode);
            // The DNAT keeps the source: the server identifies the caller by it.
            Assert.Equal($"node saw {pod.IPv4}\n", answer.StandardOutput);
        }

        Assert.Empty(cloud.Connections);
    }

    [Fact]
    public async Task Install_DotNetClientInPod_ReachesNodeServerAsThatPod()
    {
        await LabRequirements.SkipUnlessAvailableAsync("iptables-nft", "conntrack");
        await using var lab = await NetworkNamespaceLab.CreateAsync(Ct);
        await NodeTables.SeedKubeProxyRulesAsync(lab, IptablesBackend.Nft);
        var pod = await lab.CreatePodAsync("dotnet", IPAddress.Parse("198.51.100.16"), Ct);
        (await new InterceptionScript(lab).InstallAsync()).EnsureSuccess();
        lab.StartStandIn(lab.NodeNamespace, new IPEndPoint(LabNetwork.Proxy4, LabNetwork.ProxyPort), "node");
        using var client = lab.CreateHttpClient(pod.Namespace);

        var answer = await client.GetStringAsync(new Uri("http://169.254.169.254/computeMetadata/v1/"), Ct);

        Assert.Equal($"node saw {pod.IPv4}\n", answer);
    }

    [Fact]
    public async Task Install_PodRequestsIPv6Metadata_NodeServerAnswersOnIPv6()
    {
        await LabRequirements.SkipUnlessAvailableAsync("iptables-nft", "ip6tables-nft", "curl", "conntrack");
        await using var lab = await NetworkNamespaceLab.CreateAsync(Ct);
        await NodeTables.SeedKubeProxyRulesAsync(lab, IptablesBackend.Nft);
        var pod = await lab.CreatePodAsync("six", IPAddress.Parse("198.51.100.13"), Ct);
        var cloud = lab.StartStandIn(lab.CloudNamespace, new IPEndPoint(LabNetwork.Metadata6, 80), "cloud");

        (await new InterceptionScript(lab).InstallAsync(new Dictionary<string, string> { ["IPV6"] = "on" })).EnsureSuccess();
        lab.StartStandIn(lab.NodeNamespace, new IPEndPoint(LabNetwork.Proxy6, LabNetwork.ProxyPort), "node");

        var answer = await lab.CurlAsync(pod.Namespace, "http://[fd20:ce::254]/computeMetadata/v1/", Ct);
        Assert.Equal(0, answer.ExitCode);
        Assert.Equal($"node saw {pod.IPv6}\n", answer.StandardOutput);
        Assert.Empty(cloud.Connections);
    }

    [Fact]
    public async Task Install_NodeWithoutIPv6Connectivity_InterceptsIPv4Only()
    {
        await LabRequirements.SkipUnlessAvailableAsync("iptables-nft", "ip6tables-nft", "conntrack");
        await using var lab = await NetworkNamespaceLab.CreateAsync(Ct);
        await NodeTables.SeedKubeProxyRulesAsync(lab, IptablesBackend.Nft);
        (await lab.ExecAsync(lab.NodeNamespace, "ip", "-6", "route", "del", "default")).EnsureSuccess();
        (await lab.ExecAsync(lab.NodeNamespace, "ip", "-6", "addr", "flush", "scope", "global")).EnsureSuccess();
        var ipv6Before = await NodeTables.SaveAsync(lab, IptablesBackend.Nft, 6);

        var install = await new InterceptionScript(lab).InstallAsync();

        Assert.True(install.Succeeded, install.ToString());
        Assert.Equal("metadata-proxy-iptables: verify: ok (backend nft, IPv4, all interfaces but eth0)\n", install.StandardOutput);
        Assert.Equal(ipv6Before, await NodeTables.SaveAsync(lab, IptablesBackend.Nft, 6));
        Assert.DoesNotContain("fd20:ce::252", await NodeTables.LoopbackAddressesAsync(lab), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Install_NodeServerNotListening_PodIsRefusedAndNeverReachesTheCloud()
    {
        await LabRequirements.SkipUnlessAvailableAsync("iptables-nft", "curl", "conntrack");
        await using var lab = await NetworkNamespaceLab.CreateAsync(Ct);
        await NodeTables.SeedKubeProxyRulesAsync(lab, IptablesBackend.Nft);
        var pod = await lab.CreatePodAsync("pod", IPAddress.Parse("198.51.100.14"), Ct);
        var cloud = lab.StartStandIn(lab.CloudNamespace, new IPEndPoint(LabNetwork.Metadata4, 80), "cloud");
        // Without interception the pod reaches the cloud's metadata server: that is the path that must close.
        var before = await lab.CurlAsync(pod.Namespace, "http://169.254.169.254/", Ct);
        Assert.Equal($"cloud saw {pod.IPv4}\n", before.StandardOutput);

        (await new InterceptionScript(lab).InstallAsync()).EnsureSuccess();
        var node = lab.StartStandIn(lab.NodeNamespace, new IPEndPoint(LabNetwork.Proxy4, LabNetwork.ProxyPort), "node");
        Assert.Equal($"node saw {pod.IPv4}\n", (await lab.CurlAsync(pod.Namespace, "http://169.254.169.254/", Ct)).StandardOutput);
        await node.DisposeAsync();
        var refused = await lab.CurlAsync(pod.Namespace, "http://169.254.169.254/", Ct);

        Assert.True(refused.ExitCode == 7, $"curl should fail to connect (7): {refused}");
        Assert.Single(cloud.Connections);
    }

    [Fact]
    public async Task Install_NodeProcessRequestsMetadata_IsNotInterceptedAndOutputIsUntouched()
    {
        await LabRequirements.SkipUnlessAvailableAsync("iptables-nft", "curl", "conntrack");
        await using var lab = await NetworkNamespaceLab.CreateAsync(Ct);
        await NodeTables.SeedKubeProxyRulesAsync(lab, IptablesBackend.Nft);
        var outputBefore = (await NodeTables.NatRulesAsync(lab, IptablesBackend.Nft, 4)).Where(r => r.StartsWith("-A OUTPUT ", StringComparison.Ordinal));
        lab.StartStandIn(lab.CloudNamespace, new IPEndPoint(LabNetwork.Metadata4, 80), "cloud");

        (await new InterceptionScript(lab).InstallAsync()).EnsureSuccess();
        lab.StartStandIn(lab.NodeNamespace, new IPEndPoint(LabNetwork.Proxy4, LabNetwork.ProxyPort), "node");
        var answer = await lab.CurlAsync(lab.NodeNamespace, "http://169.254.169.254/", Ct);

        // Host processes and hostNetwork pods keep their own path (the kubelet's, the node's own identity).
        Assert.Equal($"cloud saw {LabNetwork.NodeUplink4}\n", answer.StandardOutput);
        var outputAfter = (await NodeTables.NatRulesAsync(lab, IptablesBackend.Nft, 4)).Where(r => r.StartsWith("-A OUTPUT ", StringComparison.Ordinal));
        Assert.Equal(outputBefore, outputAfter);
    }

    [Fact]
    public async Task Install_NoUplinkGiven_ExcludesTheDefaultRouteInterface()
    {
        await LabRequirements.SkipUnlessAvailableAsync("iptables-nft", "conntrack");
        await using var lab = await NetworkNamespaceLab.CreateAsync(Ct);
        await NodeTables.SeedKubeProxyRulesAsync(lab, IptablesBackend.Nft);

        (await new InterceptionScript(lab).InstallAsync()).EnsureSuccess();

        var dnat = Assert.Single(await NodeTables.NatRulesAsync(lab, IptablesBackend.Nft, 4), r => r.StartsWith("-A METADATA-PROXY ", StringComparison.Ordinal));
        Assert.Equal(
            "-A METADATA-PROXY -d 169.254.169.254/32 ! -i eth0 -p tcp -m tcp --dport 80 -m comment --comment \"metadata-proxy: to the node metadata server\" -j DNAT --to-destination 169.254.169.252:8988",
            dnat);
    }

    [Fact]
    public async Task Install_PodCidrs_InterceptsOnlyPodsInThoseRanges()
    {
        await LabRequirements.SkipUnlessAvailableAsync("iptables-nft", "curl", "conntrack");
        await using var lab = await NetworkNamespaceLab.CreateAsync(Ct);
        await NodeTables.SeedKubeProxyRulesAsync(lab, IptablesBackend.Nft);
        var inside = await lab.CreatePodAsync("inside", IPAddress.Parse("198.51.100.15"), Ct);
        var outside = await lab.CreatePodAsync("outside", IPAddress.Parse("198.51.100.200"), Ct);
        lab.StartStandIn(lab.CloudNamespace, new IPEndPoint(LabNetwork.Metadata4, 80), "cloud");

        var environment = new Dictionary<string, string> { ["POD_CIDRS"] = "198.51.100.0/25", ["IPV6"] = "off" };
        (await new InterceptionScript(lab).InstallAsync(environment)).EnsureSuccess();
        lab.StartStandIn(lab.NodeNamespace, new IPEndPoint(LabNetwork.Proxy4, LabNetwork.ProxyPort), "node");

        Assert.Equal($"node saw {inside.IPv4}\n", (await lab.CurlAsync(inside.Namespace, "http://169.254.169.254/", Ct)).StandardOutput);
        Assert.Equal($"cloud saw {outside.IPv4}\n", (await lab.CurlAsync(outside.Namespace, "http://169.254.169.254/", Ct)).StandardOutput);
        var dnat = Assert.Single(await NodeTables.NatRulesAsync(lab, IptablesBackend.Nft, 4), r => r.StartsWith("-A METADATA-PROXY ", StringComparison.Ordinal));
        Assert.StartsWith("-A METADATA-PROXY -s 198.51.100.0/25 -d 169.254.169.254/32 -p tcp", dnat, StringComparison.Ordinal);
    }
}
