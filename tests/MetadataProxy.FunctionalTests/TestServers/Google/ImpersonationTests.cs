using System.Text.Json.Nodes;
using Google.Apis.Auth;
using Google.Apis.Auth.OAuth2;
using Google.Apis.Auth.OAuth2.Responses;
using MetadataProxy.TestServers.Google;
using MetadataProxy.TestServers.Jwt;

namespace MetadataProxy.FunctionalTests.TestServers.Google;

/// <summary>
/// Google.Apis.Auth impersonation (STS, then IAM Credentials) pointed at the test server:
/// <c>GoogleCredential.FromProgrammaticExternalAccountCredential(c).Impersonate(new ImpersonatedCredential.Initializer(gsa)
/// { Scopes = …, HttpClientFactory = new RedirectingHttpClientFactory(server.IamCredentialsBaseUrl) })</c>.
/// </summary>
public class ImpersonationTests
{
    private const string TargetAudience = "https://service.example.com";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task GetAccessTokenForRequestAsync_BoundKsa_ReturnsServiceAccountToken()
    {
        await using var scenario = await FederationScenario.StartAsync(Ct);
        ITokenAccess credential = scenario.ImpersonatedCredential();

        var token = await credential.GetAccessTokenForRequestAsync(cancellationToken: Ct);

        var info = scenario.Google.DescribeAccessToken(token);
        Assert.NotNull(info);
        Assert.Equal(TokenKind.ServiceAccount, info.Kind);
        Assert.Equal(FederationScenario.Gsa, info.ServiceAccountEmail);
        Assert.Equal([FederationScenario.CloudPlatform], info.Scopes);
        Assert.Equal(1, scenario.Google.StsCalls);
        Assert.Equal(1, scenario.Google.GenerateAccessTokenCalls);
    }

    [Fact]
    public async Task GetAccessTokenForRequestAsync_Impersonation_SendsIamScopeToStsAndFieldsToIam()
    {
        await using var scenario = await FederationScenario.StartAsync(Ct);
        ITokenAccess credential = scenario.ImpersonatedCredential();

        await credential.GetAccessTokenForRequestAsync(cancellationToken: Ct);

        // The library re-scopes the source credential to the IAM scope, whatever Scopes it was built with.
        Assert.Equal([FederationScenario.IamScope], Assert.Single(scenario.Google.StsRequests).Scopes);
        var call = Assert.Single(scenario.Google.IamRequests);
        Assert.Equal(IamMethod.GenerateAccessToken, call.Method);
        Assert.Equal(200, call.Status);
        Assert.Equal(FederationScenario.KsaPrincipal, call.BearerPrincipal);
        Assert.Equal([FederationScenario.CloudPlatform], call.Scopes);
        Assert.Equal("3600s", call.Lifetime);
        Assert.Empty(call.Delegates);
        Assert.Null(call.UserProject);
    }

    [Fact]
    public async Task GetAccessTokenForRequestAsync_SourceWithQuotaProject_SendsUserProjectHeaderToIam()
    {
        await using var scenario = await FederationScenario.StartAsync(Ct);
        ITokenAccess credential = scenario.ImpersonatedCredential(quotaProject: "quota-1");

        var token = await credential.GetAccessTokenForRequestAsync(cancellationToken: Ct);

        Assert.Equal("quota-1", Assert.Single(scenario.Google.IamRequests).UserProject);
        Assert.Equal("quota-1", scenario.Google.DescribeAccessToken(token)?.QuotaProject);
        Assert.Null(Assert.Single(scenario.Google.StsRequests).Options);
    }

    [Fact]
    public async Task GetOidcTokenAsync_BoundKsa_ReturnsIdTokenSignedByGoogleSigner()
    {
        await using var scenario = await FederationScenario.StartAsync(Ct);
        var credential = scenario.ImpersonatedCredential();

        var oidc = await credential.GetOidcTokenAsync(OidcTokenOptions.FromTargetAudience(TargetAudience), Ct);
        var idToken = await oidc.GetAccessTokenAsync(Ct);

        Assert.True(JwtVerifier.TryVerify(idToken, JsonNode.Parse(scenario.Google.GoogleJwksJson)!.AsObject(), out var claims, out var error), error);
        Assert.Equal(TargetAudience, (string?)claims!["aud"]);
        Assert.Equal(FederationScenario.Gsa, (string?)claims["email"]);
        Assert.True((bool?)claims["email_verified"]);
        Assert.Equal(3600, (long)claims["exp"]! - (long)claims["iat"]!);
        var call = Assert.Single(scenario.Google.IamRequests);
        Assert.Equal(IamMethod.GenerateIdToken, call.Method);
        Assert.True(call.IncludeEmail);
        Assert.Equal(1, scenario.Google.GenerateIdTokenCalls);
    }

    [Fact]
    public async Task GetOidcTokenAsync_IdToken_VerifiesWithGoogleApisAuthAgainstServedCerts()
    {
        await using var scenario = await FederationScenario.StartAsync(Ct);
        var oidc = await scenario.ImpersonatedCredential().GetOidcTokenAsync(OidcTokenOptions.FromTargetAudience(TargetAudience), Ct);

        var payload = await JsonWebSignature.VerifySignedTokenAsync(await oidc.GetAccessTokenAsync(Ct), new SignedTokenVerificationOptions
        {
            CertificatesUrl = scenario.Google.GoogleCertsUrl.AbsoluteUri,
            TrustedAudiences = { TargetAudience },
            TrustedIssuers = { "https://accounts.google.com" },
        }, Ct);

        Assert.Equal(GoogleTestServer.ServiceAccountUniqueId(FederationScenario.Gsa), payload.Subject);
    }

    [Fact]
    public async Task GetAccessTokenForRequestAsync_NoBinding_ThrowsWithGooglePermissionDenied()
    {
        await using var scenario = await FederationScenario.StartAsync(Ct);
        ITokenAccess credential = scenario.ImpersonatedCredential("other@test-project.iam.gserviceaccount.com");

        var e = await Assert.ThrowsAsync<TokenResponseException>(() => credential.GetAccessTokenForRequestAsync(cancellationToken: Ct));

        // IAM's error is not OAuth-shaped: the library puts the whole JSON body in Error.Error.
        Assert.Equal(System.Net.HttpStatusCode.Forbidden, e.StatusCode);
        var error = JsonNode.Parse(e.Error.Error)!["error"]!;
        Assert.Equal(403, (int?)error["code"]);
        Assert.Equal("PERMISSION_DENIED", (string?)error["status"]);
        Assert.Equal("Permission 'iam.serviceAccounts.getAccessToken' denied on resource (or it may not exist).", (string?)error["message"]);
    }

    [Fact]
    public async Task GetOidcTokenAsync_NoBinding_ThrowsWithGetOpenIdTokenDenied()
    {
        await using var scenario = await FederationScenario.StartAsync(Ct);
        var oidc = await scenario.ImpersonatedCredential("other@test-project.iam.gserviceaccount.com")
            .GetOidcTokenAsync(OidcTokenOptions.FromTargetAudience(TargetAudience), Ct);

        var e = await Assert.ThrowsAsync<TokenResponseException>(() => oidc.GetAccessTokenAsync(Ct));

        Assert.Contains("Permission 'iam.serviceAccounts.getOpenIdToken' denied on resource (or it may not exist).", e.Error.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetAccessTokenForRequestAsync_InitializerWithoutScopes_IamRejectsEmptyScope()
    {
        await using var scenario = await FederationScenario.StartAsync(Ct);
        ITokenAccess credential = GoogleCredential.FromProgrammaticExternalAccountCredential(scenario.ExternalAccountCredential())
            .Impersonate(new ImpersonatedCredential.Initializer(FederationScenario.Gsa)
            {
                HttpClientFactory = new RedirectingHttpClientFactory(scenario.Google.IamCredentialsBaseUrl),
            });

        var e = await Assert.ThrowsAsync<TokenResponseException>(() => credential.GetAccessTokenForRequestAsync(cancellationToken: Ct));

        // The library sends "scope":[] rather than defaulting to cloud-platform; Google answers a bare 400.
        Assert.Contains("Request contains an invalid argument.", e.Error.Error, StringComparison.Ordinal);
        Assert.Equal("{\"scope\":[],\"lifetime\":\"3600s\",\"delegates\":[]}", Assert.Single(scenario.Google.IamRequests).Body);
    }
}
