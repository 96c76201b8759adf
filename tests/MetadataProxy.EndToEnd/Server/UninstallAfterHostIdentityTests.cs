using MetadataProxy.EndToEnd.Lab;

namespace MetadataProxy.EndToEnd.Server;

/// <summary>
/// After the node identity was served to host processes, removing MetadataProxy (the DaemonSet deleted, then the
/// uninstall Job) leaves the node's netfilter tables, lo and hosts file exactly as they were before install.
/// </summary>
public sealed class UninstallAfterHostIdentityTests
{
    [Fact]
    public async Task Uninstall_AfterServingTheHost_IptablesSaveLoAndHostsAreAsBeforeAndTheHostReachesTheCloudAgain()
    {
        await using var lab = new ServerLab { HostInterception = "on", HostNetworkPolicy = "NodeIdentity", HostDns = "on" };
        await lab.InitializeAsync();
        lab.SkipUnlessBuilt();
        var served = await lab.CurlAsync(lab.Lab.NodeNamespace, "http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/email");
        Assert.True(served == new CurlAnswer(0, 200, ServerLab.NodeGsa, ""), $"{served}\nserver output:\n{lab.Server.Output}");

        Assert.Equal(0, await lab.Server.StopAsync(TimeSpan.FromSeconds(10)));
        // The Job runs with its own environment (manifests/uninstall/job.yaml), not interception.env.
        var uninstall = await new Iptables.InterceptionScript(lab.Lab).UninstallAsync(
            new Dictionary<string, string>
            {
                ["METADATA_PROXY_ADDRESS"] = "169.254.169.252",
                ["METADATA_PROXY_ADDRESS6"] = "fd20:ce::252",
                ["HOSTS_FILE"] = lab.NodeHostsFile,
            });
        await using var cloud = lab.Lab.StartStandIn(lab.Lab.CloudNamespace, new IPEndPoint(LabNetwork.Metadata4, 80), "cloud");
        var after = await lab.CurlAsync(lab.Lab.NodeNamespace, "http://169.254.169.254/");

        Assert.True(uninstall.Succeeded, uninstall.ToString());
        Assert.Equal(lab.NodeBeforeInstall, await lab.SnapshotNodeAsync());
        Assert.Equal($"cloud saw {LabNetwork.NodeUplink4}\n", after.Body);
    }
}
