using System.Text.Json;
using MetadataProxy.EndToEnd.Lab;
using MetadataProxy.TestServers.Google;

namespace MetadataProxy.EndToEnd.Server;

/// <summary>
/// Issue 8: with <c>HOST_INTERCEPTION=on</c> and <c>Identity:HostNetworkPolicy=NodeIdentity</c>, a process of the node's
/// own network namespace asks 169.254.169.254 as on GKE and gets the node identity (the server's own ServiceAccount),
/// while the pods beside it keep their own identities.
/// </summary>
public sealed class HostIdentityTests(HostIdentityLab fixture) : IClassFixture<HostIdentityLab>
{
    private const string Sa = "http://169.254.169.254/computeMetadata/v1/instance/service-accounts/default";

    private ServerLab Lab => fixture.Server;

    [Fact]
    public async Task Email_HostProcess_GetsTheNodeIdentity()
    {
        Lab.SkipUnlessBuilt();

        var answer = await Lab.CurlAsync(Lab.Lab.NodeNamespace, $"{Sa}/email");

        Assert.True(answer == new CurlAnswer(0, 200, ServerLab.NodeGsa, ""), $"{answer}\nserver output:\n{Lab.Server.Output}");
    }

    [Theory]
    [InlineData("metadata.google.internal")]
    [InlineData("metadata.google.internal.")]
    public async Task Email_HostProcessByNameWithHostDns_GetsTheNodeIdentity(string name)
    {
        Lab.SkipUnlessBuilt();

        var answer = await Lab.CurlAsync(Lab.Lab.NodeNamespace, $"http://{name}/computeMetadata/v1/instance/service-accounts/default/email");

        Assert.True(answer == new CurlAnswer(0, 200, ServerLab.NodeGsa, ""), $"{answer}\nhosts:\n{File.ReadAllText(Lab.NodeHostsFile)}");
    }

    [Fact]
    public async Task Email_HostProcessOverIPv6_GetsTheNodeIdentity()
    {
        Lab.SkipUnlessBuilt();

        var answer = await Lab.CurlAsync(Lab.Lab.NodeNamespace, $"http://[{LabNetwork.Metadata6}]/computeMetadata/v1/instance/service-accounts/default/email");

        Assert.Equal(new CurlAnswer(0, 200, ServerLab.NodeGsa, ""), answer);
    }

    [Fact]
    public async Task Token_HostProcess_IsTheNodeGsasTokenMintedForTheServersOwnPod()
    {
        Lab.SkipUnlessBuilt();

        var token = await TokenAsync(Lab.Lab.NodeNamespace);

        var info = Lab.Google.DescribeAccessToken(token);
        Assert.NotNull(info);
        Assert.Equal(TokenKind.ServiceAccount, info.Kind);
        Assert.Equal(ServerLab.NodeGsa, info.ServiceAccountEmail);
        // No key file: a TokenRequest for the server's own ServiceAccount, bound to the server's own pod.
        var request = Lab.Kube.TokenRequestsMade.Last(r => r.ServiceAccount == ServerLab.ServerServiceAccount);
        Assert.Equal(ServerLab.ServerNamespace, request.Namespace);
        Assert.Equal(ServerLab.ServerPodName, request.BoundObjectRef?.Name);
        Assert.Equal(Lab.ServerPod.Metadata.Uid, request.BoundObjectRef?.Uid);
    }

    [Fact]
    public async Task Email_PodsBesideTheHost_KeepTheirOwnIdentities()
    {
        Lab.SkipUnlessBuilt();

        var writer = await Lab.CurlAsync(Lab.Writer.Namespace, $"{Sa}/email");
        var reader = await Lab.CurlAsync(Lab.Reader.Namespace, $"{Sa}/email");

        Assert.Equal(new CurlAnswer(0, 200, ServerLab.WriterGsa, ""), writer);
        Assert.Equal(new CurlAnswer(0, 200, $"{ServerLab.ProjectId}.svc.id.goog", ""), reader);
    }

    [Fact]
    public async Task Token_PodBesideTheHost_IsItsOwnGsasToken()
    {
        Lab.SkipUnlessBuilt();

        var token = await TokenAsync(Lab.Writer.Namespace);

        Assert.Equal(ServerLab.WriterGsa, Lab.Google.DescribeAccessToken(token)?.ServiceAccountEmail);
    }

    [Fact]
    public async Task Token_AddressOfNoPod_IsStillRefused()
    {
        Lab.SkipUnlessBuilt();

        var answer = await Lab.CurlAsync(Lab.Stranger.Namespace, $"{Sa}/token");

        Assert.Equal(503, answer.Status);
        Assert.Contains($"No live pod on node {ServerLab.NodeName} has IP {Lab.Stranger.IPv4}", answer.Body, StringComparison.Ordinal);
        Assert.DoesNotContain("access_token", answer.Body, StringComparison.Ordinal);
    }

    private async Task<string> TokenAsync(string networkNamespace)
    {
        var answer = await Lab.CurlAsync(networkNamespace, $"{Sa}/token");
        Assert.True(answer is { ExitCode: 0, Status: 200 }, $"{answer}\nserver output:\n{Lab.Server.Output}");
        using var document = JsonDocument.Parse(answer.Body);
        Assert.Equal("Bearer", document.RootElement.GetProperty("token_type").GetString());
        return document.RootElement.GetProperty("access_token").GetString()!;
    }
}
