using MetadataProxy.FunctionalTests.Infrastructure;

namespace MetadataProxy.FunctionalTests.Standalone;

/// <summary>
/// G-5 and decision 2 under ASP.NET's FORWARDEDHEADERS_ENABLED (set in many base images): no header may rewrite
/// who the caller is. The real executable runs with the variable set; a caller claiming another address through
/// X-Forwarded-For is refused, not given that address's identity.
/// </summary>
public sealed class ForwardedHeadersTests
{
    [Theory]
    [InlineData("FORWARDEDHEADERS_ENABLED")]
    [InlineData("ASPNETCORE_FORWARDEDHEADERS_ENABLED")]
    public async Task ForwardedHeadersEnabled_XForwardedForStillRefused_AndNeverChoosesTheIdentity(string variable)
    {
        var environment = new Dictionary<string, string> { [variable] = "true", ["HOME"] = Path.GetTempPath(), ["GCE_METADATA_HOST"] = "127.0.0.1:9" };
        await using var server = await ServerProcess.StartAsync(environment,
            "--Standalone:Identities:0:Cidr=127.0.0.2/32",
            "--Standalone:Identities:0:GoogleServiceAccount=victim@test-project.iam.gserviceaccount.com");
        using var attacker = ProxyServer.CreateClient(server.MetadataUri, IPAddress.Parse("127.0.0.3"));

        using var request = MetadataRequests.Get("/computeMetadata/v1/instance/service-accounts/default/email");
        request.Headers.Add("X-Forwarded-For", "127.0.0.2");
        using var response = await attacker.SendAsync(request, TestContext.Current.CancellationToken);
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.DoesNotContain("victim", body, StringComparison.Ordinal);
    }
}
