using MetadataProxy.EndToEnd.Lab;

namespace MetadataProxy.EndToEnd.Server;

/// <summary>
/// The interception fails closed: with the server stopped (as the kubelet stops it, for an update or a drain) pods are
/// refused, never sent on to the cloud's metadata server, whose answer would be the node's own identity.
/// </summary>
public sealed class ServerStoppedTests
{
    private const string Email = "http://169.254.169.254/computeMetadata/v1/instance/service-accounts/default/email";

    [Fact]
    public async Task Email_ServerStopped_IsRefusedAndNeverReachesTheCloud()
    {
        await using var lab = new ServerLab();
        await lab.InitializeAsync();
        lab.SkipUnlessBuilt();
        var cloud = lab.Lab.StartStandIn(lab.Lab.CloudNamespace, new IPEndPoint(LabNetwork.Metadata4, 80), "cloud");
        Assert.Equal(200, (await lab.CurlAsync(lab.Writer.Namespace, Email)).Status);

        var exitCode = await lab.Server.StopAsync(TimeSpan.FromSeconds(10));
        var refused = await lab.CurlAsync(lab.Writer.Namespace, Email);

        Assert.True(exitCode == 0, $"the server should stop cleanly on SIGTERM, exited {exitCode}:\n{lab.Server.Output}");
        Assert.True(refused.ExitCode == 7, $"curl should fail to connect (7): {refused}");
        Assert.Empty(cloud.Connections);
    }
}
