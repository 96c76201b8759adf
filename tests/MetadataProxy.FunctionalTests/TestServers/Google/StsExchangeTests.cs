using Google.Apis.Auth.OAuth2;
using Google.Apis.Auth.OAuth2.Responses;
using MetadataProxy.TestServers.Google;

namespace MetadataProxy.FunctionalTests.TestServers.Google;

/// <summary>Google.Apis.Auth's ProgrammaticExternalAccountCredential against the STS test endpoint.</summary>
public class StsExchangeTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task GetAccessTokenForRequestAsync_ValidSubjectToken_ReturnsFederatedTokenForKsaPrincipal()
    {
        await using var scenario = await FederationScenario.StartAsync(Ct);
        var credential = scenario.ExternalAccountCredential();

        var token = await credential.GetAccessTokenForRequestAsync(cancellationToken: Ct);

        Assert.Equal(1, scenario.Google.StsCalls);
        var info = scenario.Google.DescribeAccessToken(token);
        Assert.NotNull(info);
        Assert.Equal(TokenKind.Federated, info.Kind);
        Assert.Equal(FederationScenario.KsaPrincipal, info.Principal);
        Assert.Equal([FederationScenario.CloudPlatform], info.Scopes);
        Assert.Equal(TimeSpan.FromHours(1), info.ExpiresAt - info.IssuedAt);
    }

    [Fact]
    public async Task GetAccessTokenForRequestAsync_Exchange_SendsRfc8693FormFields()
    {
        await using var scenario = await FederationScenario.StartAsync(Ct);

        await scenario.ExternalAccountCredential().GetAccessTokenForRequestAsync(cancellationToken: Ct);

        var sent = Assert.Single(scenario.Google.StsRequests);
        Assert.Equal(200, sent.Status);
        Assert.Equal("urn:ietf:params:oauth:grant-type:token-exchange", sent.GrantType);
        Assert.Equal("urn:ietf:params:oauth:token-type:access_token", sent.RequestedTokenType);
        Assert.Equal("urn:ietf:params:oauth:token-type:jwt", sent.SubjectTokenType);
        Assert.Equal(FederationScenario.Audience, sent.Audience);
        Assert.Equal([FederationScenario.CloudPlatform], sent.Scopes);
        Assert.Null(sent.Options);
        Assert.Equal(FederationScenario.KsaSubject, sent.Subject);
        Assert.StartsWith("application/x-www-form-urlencoded", sent.Headers["content-type"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetAccessTokenForRequestAsync_SecondCall_ReusesCachedTokenWithoutExchanging()
    {
        await using var scenario = await FederationScenario.StartAsync(Ct);
        var credential = scenario.ExternalAccountCredential();

        var first = await credential.GetAccessTokenForRequestAsync(cancellationToken: Ct);
        var second = await credential.GetAccessTokenForRequestAsync(cancellationToken: Ct);

        Assert.Equal(first, second);
        Assert.Equal(1, scenario.Google.StsCalls);
    }

    [Fact]
    public async Task GetAccessTokenForRequestAsync_NoScopes_SendsNoScopeField()
    {
        await using var scenario = await FederationScenario.StartAsync(Ct);
        var credential = new ProgrammaticExternalAccountCredential(new ProgrammaticExternalAccountCredential.Initializer(
            scenario.Google.StsTokenUrl.AbsoluteUri,
            FederationScenario.Audience,
            "urn:ietf:params:oauth:token-type:jwt",
            new DelegateSubjectTokenProvider(() => scenario.MintSubjectToken())));

        await credential.GetAccessTokenForRequestAsync(cancellationToken: Ct);

        Assert.False(Assert.Single(scenario.Google.StsRequests).Form.ContainsKey("scope"));
    }

    [Fact]
    public async Task GetAccessTokenForRequestAsync_WrongAudienceClaim_ThrowsTokenResponseExceptionWithInvalidGrant()
    {
        await using var scenario = await FederationScenario.StartAsync(Ct);
        var credential = scenario.ExternalAccountCredential(() => scenario.MintSubjectToken(c => c["aud"] = "https://kubernetes.default.svc"));

        var e = await Assert.ThrowsAsync<TokenResponseException>(() => credential.GetAccessTokenForRequestAsync(cancellationToken: Ct));

        Assert.Equal(System.Net.HttpStatusCode.BadRequest, e.StatusCode);
        Assert.Equal("invalid_grant", e.Error.Error);
        Assert.StartsWith("The audience in ID Token [https://kubernetes.default.svc] does not match the expected audience", e.Error.ErrorDescription, StringComparison.Ordinal);
    }
}
