using System.Text.Json.Nodes;
using MetadataProxy.TestServers.Google;

namespace MetadataProxy.FunctionalTests.TestServers.Google;

/// <summary>What STS accepts besides the plain case, and what it answers.</summary>
public class StsAcceptanceTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Exchange_ValidToken_ReturnsGoogleTokenResponse()
    {
        await using var scenario = await FederationScenario.StartAsync(Ct);

        var (status, body) = await scenario.PostStsAsync(scenario.MintSubjectToken());

        Assert.Equal(200, status);
        Assert.StartsWith("ya29.", (string?)body["access_token"], StringComparison.Ordinal);
        Assert.Equal("urn:ietf:params:oauth:token-type:access_token", (string?)body["issued_token_type"]);
        Assert.Equal("Bearer", (string?)body["token_type"]);
        Assert.Equal(3600, (int?)body["expires_in"]);
    }

    [Theory]
    [InlineData("https://iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/test-pool/providers/kubernetes")]
    [InlineData("//iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/test-pool/providers/kubernetes")]
    public async Task Exchange_DefaultAudienceAsSingleString_Accepted(string aud)
    {
        await using var scenario = await FederationScenario.StartAsync(Ct);

        var (status, _) = await scenario.PostStsAsync(scenario.MintSubjectToken(c => c["aud"] = aud));

        Assert.Equal(200, status);
    }

    [Fact]
    public async Task Exchange_AudienceArrayContainingProvider_Accepted()
    {
        await using var scenario = await FederationScenario.StartAsync(Ct);

        var (status, _) = await scenario.PostStsAsync(
            scenario.MintSubjectToken(c => c["aud"] = new JsonArray("https://kubernetes.default.svc", FederationScenario.Audience)));

        Assert.Equal(200, status);
    }

    [Fact]
    public async Task Exchange_CustomAllowedAudience_ReplacesTheDefaults()
    {
        await using var scenario = await FederationScenario.StartAsync(Ct);
        scenario.Google.AddProvider(FederationScenario.ProjectNumber, FederationScenario.PoolId, FederationScenario.ProviderId,
            FederationScenario.Issuer, JwksSource.FromJson(scenario.KubeSigner.JwksJson()), ["test-project.svc.id.goog"]);

        var (custom, _) = await scenario.PostStsAsync(scenario.MintSubjectToken(c => c["aud"] = "test-project.svc.id.goog"));
        var (defaults, _) = await scenario.PostStsAsync(scenario.MintSubjectToken());

        Assert.Equal(200, custom);
        Assert.Equal(400, defaults);
    }

    [Fact]
    public async Task Exchange_IdTokenSubjectTokenType_Accepted()
    {
        await using var scenario = await FederationScenario.StartAsync(Ct);

        var (status, _) = await scenario.PostStsAsync(scenario.MintSubjectToken(),
            form => form["subject_token_type"] = "urn:ietf:params:oauth:token-type:id_token");

        Assert.Equal(200, status);
    }

    [Fact]
    public async Task Exchange_OptionsWithUserProject_RecordedOnRequestAndToken()
    {
        await using var scenario = await FederationScenario.StartAsync(Ct);

        var (_, body) = await scenario.PostStsAsync(scenario.MintSubjectToken(), form => form["options"] = "{\"userProject\":\"quota-1\"}");

        Assert.Equal("quota-1", Assert.Single(scenario.Google.StsRequests).UserProject);
        Assert.Equal("quota-1", scenario.Google.DescribeAccessToken((string)body["access_token"]!)?.QuotaProject);
    }

    [Fact]
    public async Task Exchange_ShorterAccessTokenLifetime_ExpiresInFollows()
    {
        await using var scenario = await FederationScenario.StartAsync(Ct);
        scenario.Google.AccessTokenLifetime = TimeSpan.FromMinutes(5);

        var (_, body) = await scenario.PostStsAsync(scenario.MintSubjectToken());

        Assert.Equal(300, (int?)body["expires_in"]);
    }
}
