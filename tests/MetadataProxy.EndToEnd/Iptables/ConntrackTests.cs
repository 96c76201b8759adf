using System.Text;
using MetadataProxy.EndToEnd.Lab;

namespace MetadataProxy.EndToEnd.Iptables;

/// <summary>A connection opened before the rule existed must not keep its way to the cloud's metadata server.</summary>
public sealed class ConntrackTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Install_ConnectionOpenedBefore_IsCutWhileNewConnectionsAreIntercepted()
    {
        await LabRequirements.SkipUnlessAvailableAsync("iptables-nft", "conntrack", "curl");
        await using var lab = await NetworkNamespaceLab.CreateAsync(Ct);
        await NodeTables.SeedKubeProxyRulesAsync(lab, IptablesBackend.Nft);
        var pod = await lab.CreatePodAsync("pod", IPAddress.Parse("198.51.100.21"), Ct);
        var cloud = lab.StartStandIn(lab.CloudNamespace, new IPEndPoint(LabNetwork.Metadata4, 80), "cloud");
        using var early = lab.CreateTcpSocket(pod.Namespace, AddressFamily.InterNetwork);
        await early.ConnectAsync(new IPEndPoint(LabNetwork.Metadata4, 80), Ct);
        await early.SendAsync(Encoding.ASCII.GetBytes("before\n"), Ct);
        await cloud.WaitUntilAsync(c => c.Any(x => x.Received == "before\n"), Patience, Ct);
        Assert.Equal(1, await UninterceptedEntriesAsync(lab));

        (await new InterceptionScript(lab).InstallAsync(new Dictionary<string, string> { ["IPV6"] = "off" })).EnsureSuccess();
        lab.StartStandIn(lab.NodeNamespace, new IPEndPoint(LabNetwork.Proxy4, LabNetwork.ProxyPort), "node");

        Assert.Equal(0, await UninterceptedEntriesAsync(lab));
        // The old connection's next segment is now DNATed to the node, which knows no such connection: reset.
        await early.SendAsync(Encoding.ASCII.GetBytes("after\n"), Ct);
        await AssertResetAsync(early);
        Assert.Equal($"node saw {pod.IPv4}\n", (await lab.CurlAsync(pod.Namespace, "http://169.254.169.254/", Ct)).StandardOutput);
        Assert.Equal("before\n", Assert.Single(cloud.Connections).Received);
    }

    // Entries for 169.254.169.254:80 whose reply still comes from 169.254.169.254: connections not sent to the node.
    private static async Task<int> UninterceptedEntriesAsync(NetworkNamespaceLab lab)
    {
        var listed = await lab.ExecAsync(
            lab.NodeNamespace,
            "conntrack", "-L", "-p", "tcp", "--orig-dst", "169.254.169.254", "--orig-port-dst", "80", "--reply-src", "169.254.169.254");
        listed.EnsureSuccess();
        return listed.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;
    }

    private static async Task AssertResetAsync(Socket socket)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        deadline.CancelAfter(Patience);
        var buffer = new byte[64];
        try
        {
            var read = await socket.ReceiveAsync(buffer, deadline.Token);
            Assert.Equal(0, read);
        }
        catch (SocketException e)
        {
            Assert.Equal(SocketError.ConnectionReset, e.SocketErrorCode);
        }
        catch (OperationCanceledException) when (!Ct.IsCancellationRequested)
        {
            Assert.Fail($"The connection opened before install was still open {Patience} after it.");
        }
    }
}
