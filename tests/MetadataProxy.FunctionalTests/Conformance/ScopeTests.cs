using System.Text.Json;
using MetadataProxy.FunctionalTests.Infrastructure;
using MetadataProxy.FunctionalTests.Kubernetes;
using MetadataProxy.TestServers.Google;

namespace MetadataProxy.FunctionalTests.Conformance;

/// <summary>
/// TK-4 with the short scope names Google accepts (google-auth's own system test asks for <c>email,profile</c>), in
/// Kubernetes mode: the real token cache and Google.Apis.Auth against the Google test server.
/// </summary>
public sealed class ScopeTests(KubernetesLab lab) : IClassFixture<KubernetesLab>
{
    private const string Sa = "/computeMetadata/v1/instance/service-accounts/default";
    private const string Email = "https://www.googleapis.com/auth/userinfo.email";
    private const string Profile = "https://www.googleapis.com/auth/userinfo.profile";

    [Theory]
    [InlineData("127.0.0.30", "scopes=email,profile")]
    [InlineData("127.0.0.31", "scopes=email%2Cprofile")]
    [InlineData("127.0.0.35", "scopes=profile,email,profile")]
    public async Task TK_4_G_16_ShortNames_AreAskedOfGoogleAsTheirUrls(string ip, string query)
    {
        var gsa = await PodAsync(ip, "short-" + ip[^2..]);

        var (response, body) = await lab.Client(ip).GetWithBodyAsync($"{Sa}/token?{query}");

        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        var info = lab.Google.DescribeAccessToken(AccessToken(body))!;
        Assert.Equal(TokenKind.ServiceAccount, info.Kind);
        Assert.Equal(gsa, info.ServiceAccountEmail);
        Assert.Equal([Email, Profile], info.Scopes);
    }

    [Fact]
    public async Task TK_4_OpenId_GoesToGoogleAsItIs()
    {
        var gsa = await PodAsync("127.0.0.32", "openid");

        var (response, body) = await lab.Client("127.0.0.32").GetWithBodyAsync($"{Sa}/token?scopes=openid,email");

        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        Assert.Equal([Email, "openid"], lab.Google.DescribeAccessToken(AccessToken(body))!.Scopes);
    }

    [Fact]
    public async Task TK_4_ShortNameAndItsUrl_ShareOneCachedToken()
    {
        var gsa = await PodAsync("127.0.0.33", "shared");
        using var client = lab.Client("127.0.0.33");

        var tokens = new List<string>();
        foreach (var query in new[] { "scopes=email", $"scopes={Uri.EscapeDataString(Email)}", $"scopes={Email}", $"scopes={Email},email", "scopes=%20email%20," })
        {
            var (response, body) = await client.GetWithBodyAsync($"{Sa}/token?{query}");
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{query}: {body}");
            tokens.Add(AccessToken(body));
        }

        Assert.Single(tokens.Distinct());
        Assert.Single(lab.Google.IamRequests, r => r.ServiceAccountEmail == gsa && r.Method == IamMethod.GenerateAccessToken && r.Scopes.SequenceEqual([Email]));
    }

    [Theory]
    [InlineData("127.0.0.34", "scopes=Email", "Email")]
    [InlineData("127.0.0.36", "scopes=email,offline_access", "offline_access")]
    public async Task TK_4_UnknownShortName_Is400NamingItWithoutCallingGoogle(string ip, string query, string named)
    {
        var gsa = await PodAsync(ip, "unknown-" + ip[^2..]);

        var (response, body) = await lab.Client(ip).GetWithBodyAsync($"{Sa}/token?{query}");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains($"Invalid scope &#39;{named}&#39;", body, StringComparison.Ordinal); // error bodies are HTML (D-10)
        Assert.Contains("email, profile, openid", body, StringComparison.Ordinal);
        // Only the new pod's prefetch of its default scopes may reach Google, never the refused request.
        Assert.DoesNotContain(lab.Google.IamRequests, r => r.ServiceAccountEmail == gsa
            && !r.Scopes.Order(StringComparer.Ordinal).SequenceEqual([Fixture.CloudPlatformScope, Fixture.UserInfoEmailScope]));
    }

    /// <summary>A pod at <paramref name="ip"/> whose KSA impersonates a GSA of its own; waits until the server knows it.</summary>
    private async Task<string> PodAsync(string ip, string name)
    {
        var gsa = $"{name}@test-project.iam.gserviceaccount.com";
        lab.Google.AllowImpersonation(KubernetesLab.PrincipalOf("scopes", name), gsa);
        lab.AddPod("scopes", name, ip, name, gsa);
        await lab.WaitForEmailAsync(ip, gsa);
        return gsa;
    }

    private static string AccessToken(string body)
    {
        using var json = JsonDocument.Parse(body);
        return json.RootElement.GetProperty("access_token").GetString()!;
    }
}
