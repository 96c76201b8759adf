using MetadataProxy.TestServers.Google;
using MetadataProxy.TestServers.Jwt;

namespace MetadataProxy.FunctionalTests.TestServers.Google;

/// <summary>Providers whose keys are not uploaded: OIDC discovery from the issuer URL, or a JWKS URI.</summary>
public class StsJwksSourceTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Exchange_DiscoveryFromIssuer_FetchesConfigurationThenJwks()
    {
        using var signer = new JwtSigner("issuer-key");
        await using var issuer = await OidcIssuerStub.StartAsync(signer, Ct);
        await using var scenario = await FederationScenario.StartAsync(Ct);
        scenario.Google.AddProvider(FederationScenario.ProjectNumber, FederationScenario.PoolId, "public", issuer.Issuer, JwksSource.Discovery);
        var audience = GoogleTestServer.ProviderResourceName(FederationScenario.ProjectNumber, FederationScenario.PoolId, "public");

        var (status, _) = await scenario.PostStsAsync(issuer.Mint(audience), form => form["audience"] = audience);

        Assert.Equal(200, status);
        Assert.Equal(2, issuer.Fetches);
    }

    [Fact]
    public async Task Exchange_JwksUri_FetchesKeysOnly()
    {
        using var signer = new JwtSigner("issuer-key");
        await using var issuer = await OidcIssuerStub.StartAsync(signer, Ct);
        await using var scenario = await FederationScenario.StartAsync(Ct);
        scenario.Google.AddProvider(FederationScenario.ProjectNumber, FederationScenario.PoolId, "public", issuer.Issuer, JwksSource.FromUri(issuer.JwksUri));
        var audience = GoogleTestServer.ProviderResourceName(FederationScenario.ProjectNumber, FederationScenario.PoolId, "public");

        var (status, _) = await scenario.PostStsAsync(issuer.Mint(audience), form => form["audience"] = audience);

        Assert.Equal(200, status);
        Assert.Equal(1, issuer.Fetches);
    }

    [Fact]
    public async Task Exchange_IssuerUnreachable_InvalidGrantErrorConnecting()
    {
        using var signer = new JwtSigner("issuer-key");
        await using var issuer = await OidcIssuerStub.StartAsync(signer, Ct);
        await using var scenario = await FederationScenario.StartAsync(Ct);
        scenario.Google.AddProvider(FederationScenario.ProjectNumber, FederationScenario.PoolId, "public", issuer.Issuer, JwksSource.Discovery);
        var audience = GoogleTestServer.ProviderResourceName(FederationScenario.ProjectNumber, FederationScenario.PoolId, "public");
        issuer.Available = false;

        var (status, body) = await scenario.PostStsAsync(issuer.Mint(audience), form => form["audience"] = audience);

        Assert.Equal(400, status);
        Assert.Equal("invalid_grant", (string?)body["error"]);
        Assert.Equal("Error connecting to the given credential's issuer.", (string?)body["error_description"]);
        Assert.Contains("answered 503", Assert.Single(scenario.Google.StsRequests).Diagnostic, StringComparison.Ordinal);
    }

    [Fact]
    public void FromJson_NotJson_ThrowsLikeGoogle()
    {
        var e = Assert.Throws<ArgumentException>(() => JwksSource.FromJson("-----BEGIN PUBLIC KEY-----"));

        Assert.StartsWith("Input JWK is not in a valid json format.", e.Message, StringComparison.Ordinal);
    }
}
