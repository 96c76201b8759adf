using System.Diagnostics;
using System.Text.Json;
using MetadataProxy.EndToEnd.Lab;
using MetadataProxy.TestServers.Google;

namespace MetadataProxy.EndToEnd.Server;

/// <summary>
/// Issue 5: pods ask 169.254.169.254 as on GKE, the node's rules send them to the real server, and each gets its own
/// pod's identity, found from nothing but its source address.
/// </summary>
public sealed class PodIdentityTests(ServerLab lab) : IClassFixture<ServerLab>
{
    private const string Sa = "http://169.254.169.254/computeMetadata/v1/instance/service-accounts/default";

    [Fact]
    public async Task Email_EachPodAsks_GetsItsOwnPodsIdentity()
    {
        lab.SkipUnlessBuilt();

        var writer = await lab.CurlAsync(lab.Writer.Namespace, $"{Sa}/email");
        var reader = await lab.CurlAsync(lab.Reader.Namespace, $"{Sa}/email");

        Assert.Equal(new CurlAnswer(0, 200, ServerLab.WriterGsa, ""), writer);
        Assert.Equal(new CurlAnswer(0, 200, $"{ServerLab.ProjectId}.svc.id.goog", ""), reader);
    }

    [Fact]
    public async Task Token_PodWithGsa_IsTheGsasTokenMintedForThatPod()
    {
        lab.SkipUnlessBuilt();

        var token = await TokenAsync(lab.Writer);

        var info = lab.Google.DescribeAccessToken(token);
        Assert.NotNull(info);
        Assert.Equal(TokenKind.ServiceAccount, info.Kind);
        Assert.Equal(ServerLab.WriterGsa, info.ServiceAccountEmail);
        // The subject token the server exchanged was bound to the pod the source address belongs to.
        var request = lab.Kube.TokenRequestsMade.Last(r => r.ServiceAccount == "writer");
        Assert.Equal(ServerLab.PodNamespace, request.Namespace);
        Assert.Equal("writer", request.BoundObjectRef?.Name);
    }

    [Fact]
    public async Task Token_PodWithoutGsa_IsThePoolTokenOfItsKsa()
    {
        lab.SkipUnlessBuilt();

        var token = await TokenAsync(lab.Reader);

        var info = lab.Google.DescribeAccessToken(token);
        Assert.NotNull(info);
        Assert.Equal(TokenKind.Federated, info.Kind);
        Assert.Equal(ServerLab.PrincipalOf("reader"), info.Principal);
    }

    [Fact]
    public async Task Email_PodAsksOverIPv6_GetsItsOwnPodsIdentity()
    {
        lab.SkipUnlessBuilt();

        var answer = await lab.CurlAsync(lab.Writer.Namespace, $"http://[{LabNetwork.Metadata6}]/computeMetadata/v1/instance/service-accounts/default/email");

        Assert.Equal(new CurlAnswer(0, 200, ServerLab.WriterGsa, ""), answer);
    }

    [Fact]
    public async Task Email_MetadataGoogleInternalInThePodsHostsFile_ReachesTheServer()
    {
        lab.SkipUnlessBuilt();
        // What GKE's DNS answers for the name; here the pod's own /etc/hosts does it.
        await using var hosts = lab.Lab.WriteEtcFile(lab.Reader.Namespace, "hosts", "127.0.0.1 localhost\n169.254.169.254 metadata.google.internal\n");

        var answer = await lab.CurlAsync(lab.Reader.Namespace, "http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/email");

        Assert.Equal(new CurlAnswer(0, 200, $"{ServerLab.ProjectId}.svc.id.goog", ""), answer);
    }

    [Fact]
    public async Task Token_AddressOfNoPod_Is503AfterTheLookupWaitWithoutAToken()
    {
        lab.SkipUnlessBuilt();
        var clock = Stopwatch.StartNew();

        var answer = await lab.CurlAsync(lab.Stranger.Namespace, $"{Sa}/token");

        Assert.Equal(503, answer.Status);
        Assert.Contains($"No live pod on node {ServerLab.NodeName} has IP {lab.Stranger.IPv4}", answer.Body, StringComparison.Ordinal);
        Assert.DoesNotContain("access_token", answer.Body, StringComparison.Ordinal);
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(1.4), $"answered after {clock.Elapsed}, before Identity:LookupWait");
    }

    [Fact]
    public async Task Token_DotNetClientInPod_GetsTheGsasToken()
    {
        lab.SkipUnlessBuilt();
        using var client = lab.Lab.CreateHttpClient(lab.Writer.Namespace);
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"{Sa}/token"));
        request.Headers.Add("Metadata-Flavor", "Google");

        using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Google", Assert.Single(response.Headers.GetValues("Metadata-Flavor")));
        var token = AccessToken(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.Equal(ServerLab.WriterGsa, lab.Google.DescribeAccessToken(token)?.ServiceAccountEmail);
    }

    private async Task<string> TokenAsync(LabPod pod)
    {
        var answer = await lab.CurlAsync(pod.Namespace, $"{Sa}/token");
        Assert.True(answer is { ExitCode: 0, Status: 200 }, $"{answer}\nserver output:\n{lab.Server.Output}");
        return AccessToken(answer.Body);
    }

    private static string AccessToken(string json)
    {
        using var document = JsonDocument.Parse(json);
        Assert.Equal("Bearer", document.RootElement.GetProperty("token_type").GetString());
        return document.RootElement.GetProperty("access_token").GetString()!;
    }
}
