using MetadataProxy.EndToEnd.Lab;

namespace MetadataProxy.EndToEnd.Server;

/// <summary>
/// The defaults (<c>HOST_INTERCEPTION=off</c>, <c>Identity:HostNetworkPolicy=Deny</c>): the node's own processes are
/// not intercepted, so they get nothing from MetadataProxy; their requests go out of the uplink to whatever answers
/// 169.254.169.254 there (a cloud VM's own metadata server), exactly as before MetadataProxy was installed.
/// </summary>
public sealed class HostDefaultsTests(ServerLab lab) : IClassFixture<ServerLab>
{
    private const string Email = "http://169.254.169.254/computeMetadata/v1/instance/service-accounts/default/email";

    [Fact]
    public async Task Email_HostProcessWithDefaults_GoesToTheCloudNotTheServer()
    {
        lab.SkipUnlessBuilt();
        await using var cloud = lab.Lab.StartStandIn(lab.Lab.CloudNamespace, new IPEndPoint(LabNetwork.Metadata4, 80), "cloud");

        var host = await lab.CurlAsync(lab.Lab.NodeNamespace, Email);
        var pod = await lab.CurlAsync(lab.Writer.Namespace, Email);

        Assert.Equal(new CurlAnswer(0, 200, $"cloud saw {LabNetwork.NodeUplink4}\n", ""), host);
        // Pods are still intercepted: only the host's own request left the node.
        Assert.Equal(new CurlAnswer(0, 200, ServerLab.WriterGsa, ""), pod);
        Assert.Equal(LabNetwork.NodeUplink4, Assert.Single(cloud.Connections).RemoteAddress);
    }

    [Fact]
    public async Task Email_HostProcessWithDefaultsAndNothingBeyondTheUplink_IsConnectionRefused()
    {
        lab.SkipUnlessBuilt();

        var answer = await lab.CurlAsync(lab.Lab.NodeNamespace, Email, "--connect-timeout", "2");

        // Off a cloud VM nothing answers 169.254.169.254: the cloud namespace holds the address but no listener.
        Assert.True(answer is { ExitCode: 7, Status: 0, Body: "" }, $"curl should fail to connect (7): {answer}");
    }
}
