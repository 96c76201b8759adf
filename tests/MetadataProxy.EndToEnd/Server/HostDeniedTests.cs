using MetadataProxy.EndToEnd.Lab;

namespace MetadataProxy.EndToEnd.Server;

/// <summary>
/// Host processes intercepted but the server's <c>Identity:HostNetworkPolicy</c> left at <c>Deny</c>: they reach the
/// server, which refuses them with 403 and the reason, and no token; they never reach the cloud's metadata server either.
/// </summary>
public sealed class HostDeniedTests(HostDeniedLab fixture) : IClassFixture<HostDeniedLab>
{
    private const string Sa = "http://169.254.169.254/computeMetadata/v1/instance/service-accounts/default";
    private static readonly string Reason =
        $"{LabNetwork.NodeUplink4} is in the node's network namespace (the node itself or a hostNetwork pod); Identity:HostNetworkPolicy is Deny, so no identity is served to it.";

    private ServerLab Lab => fixture.Server;

    [Theory]
    [InlineData("email")]
    [InlineData("token")]
    public async Task HostProcess_DenyPolicy_Is403WithTheReasonAndNoIdentity(string path)
    {
        Lab.SkipUnlessBuilt();

        var answer = await Lab.CurlAsync(Lab.Lab.NodeNamespace, $"{Sa}/{path}");

        Assert.True(answer is { ExitCode: 0, Status: 403 }, $"{answer}\nserver output:\n{Lab.Server.Output}");
        // The body is GCE's HTML error page around the reason.
        Assert.Contains(Reason, WebUtility.HtmlDecode(answer.Body), StringComparison.Ordinal);
        Assert.DoesNotContain("access_token", answer.Body, StringComparison.Ordinal);
        Assert.DoesNotContain("@", answer.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Email_PodWithHostInterceptionOn_GetsItsOwnIdentity()
    {
        Lab.SkipUnlessBuilt();

        var answer = await Lab.CurlAsync(Lab.Writer.Namespace, $"{Sa}/email");

        Assert.Equal(new CurlAnswer(0, 200, ServerLab.WriterGsa, ""), answer);
    }
}
