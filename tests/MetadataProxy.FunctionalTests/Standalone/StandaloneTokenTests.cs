using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using MetadataProxy.FunctionalTests.Infrastructure;
using MetadataProxy.TestServers.Google;
using MetadataProxy.TestServers.Jwt;

namespace MetadataProxy.FunctionalTests.Standalone;

/// <summary>Spec §4.5 and §4.6 in standalone mode: real Google.Apis.Auth against the Google test server.</summary>
public sealed class StandaloneTokenTests(StandaloneGoogle fixture) : IClassFixture<StandaloneGoogle>
{
    private const string Sa = "/computeMetadata/v1/instance/service-accounts";

    [Fact]
    public async Task TK_1_TK_2_Token_IsExactJsonForTheImpersonatedAccount()
    {
        var (response, body) = await fixture.Client(StandaloneGoogle.AppCaller).GetWithBodyAsync($"{Sa}/default/token");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.ContentType());
        Assert.Equal(["Google"], response.Headers.GetValues("Metadata-Flavor"));

        using var json = JsonDocument.Parse(body);
        Assert.Equal(["access_token", "expires_in", "token_type"], json.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Equal("Bearer", json.RootElement.GetProperty("token_type").GetString());
        Assert.Equal(JsonValueKind.Number, json.RootElement.GetProperty("expires_in").ValueKind);
        Assert.InRange(json.RootElement.GetProperty("expires_in").GetInt64(), 300, 3600);

        var info = fixture.Google.DescribeAccessToken(json.RootElement.GetProperty("access_token").GetString()!);
        Assert.NotNull(info);
        Assert.Equal(TokenKind.ServiceAccount, info.Kind);
        Assert.Equal(Fixture.AppServiceAccount, info.ServiceAccountEmail);
        Assert.Equal([Fixture.CloudPlatformScope, Fixture.UserInfoEmailScope], info.Scopes);
    }

    [Theory]
    [InlineData("scopes=https://www.googleapis.com/auth/devstorage.read_only,https://www.googleapis.com/auth/pubsub")]
    [InlineData("scopes=https%3A%2F%2Fwww.googleapis.com%2Fauth%2Fdevstorage.read_only%2Chttps%3A%2F%2Fwww.googleapis.com%2Fauth%2Fpubsub")]
    public async Task G_16_TK_4_RequestedScopes_RawOrEncoded_AreHonoured(string query)
    {
        var (response, body) = await fixture.Client(StandaloneGoogle.AppCaller).GetWithBodyAsync($"{Sa}/default/token?{query}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var info = fixture.Google.DescribeAccessToken(AccessToken(body));
        Assert.Equal(["https://www.googleapis.com/auth/devstorage.read_only", "https://www.googleapis.com/auth/pubsub"], info!.Scopes.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task TK_6_TokenByEmail_IsTheDefaultAccountsToken()
    {
        var (_, byDefault) = await fixture.Client(StandaloneGoogle.AppCaller).GetWithBodyAsync($"{Sa}/default/token");
        var (_, byEmail) = await fixture.Client(StandaloneGoogle.AppCaller).GetWithBodyAsync($"{Sa}/{Fixture.AppServiceAccount}/token");
        Assert.Equal(AccessToken(byDefault), AccessToken(byEmail));
    }

    [Fact]
    public async Task TK_9_TokenAltText_IsKeyValueLines()
    {
        var (response, body) = await fixture.Client(StandaloneGoogle.AppCaller).GetWithBodyAsync($"{Sa}/default/token?alt=text");
        Assert.Equal("application/text", response.ContentType());
        Assert.Matches("^access_token ya29\\.[^\\n]+\\nexpires_in [0-9]+\\ntoken_type Bearer\\n$", body);
    }

    [Fact]
    public async Task WI_1_CallerWithoutGoogleServiceAccount_GetsTheFederatedToken()
    {
        var (response, body) = await fixture.Client(StandaloneGoogle.DirectCaller).GetWithBodyAsync($"{Sa}/default/token");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var info = fixture.Google.DescribeAccessToken(AccessToken(body));
        Assert.Equal(TokenKind.Federated, info!.Kind);
        Assert.Equal(StandaloneGoogle.DeveloperPrincipal, info.Principal);
    }

    [Theory]
    [InlineData("audience=https://svc.example&format=full")]
    [InlineData("audience=https%3A%2F%2Fsvc.example&format=full")]
    [InlineData("audience=https://svc.example&format=standard&licenses=FALSE")]
    [InlineData("format=full&audience=https://svc.example&licenses=TRUE")]
    public async Task ID_1_ID_2_ID_4_Identity_IsAGoogleSignedJwtForTheAudience(string query)
    {
        var (response, body) = await fixture.Client(StandaloneGoogle.AppCaller).GetWithBodyAsync($"{Sa}/default/identity?{query}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/text", response.ContentType());
        Assert.Equal(2, body.Count(c => c == '.'));

        Assert.True(JwtVerifier.TryVerify(body, JsonNode.Parse(fixture.Google.GoogleJwksJson)!.AsObject(), out var claims, out var error), error);
        Assert.Equal("https://svc.example", (string?)claims!["aud"]);
        Assert.Equal("https://accounts.google.com", (string?)claims["iss"]);
        Assert.Equal(Fixture.AppServiceAccount, (string?)claims["email"]);
        Assert.Null(claims["google"]); // ID-4: no invented compute_engine claim under Workload Identity.
    }

    [Fact]
    public async Task ID_5_IdentityWithoutGoogleServiceAccount_Is404WithReason()
    {
        var (response, body) = await fixture.Client(StandaloneGoogle.DirectCaller).GetWithBodyAsync($"{Sa}/default/identity?audience=https://svc.example");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("has no Google service account", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TK_10_MissingIamBinding_Is403WithGooglesReason()
    {
        var (response, body) = await fixture.Client(StandaloneGoogle.UnboundCaller).GetWithBodyAsync($"{Sa}/default/token");
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("iam.serviceAccounts.getAccessToken", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TK_10_SlowGoogle_Answers503WithinTheDeadline()
    {
        fixture.Google.Sts.Latency = TimeSpan.FromSeconds(10);
        try
        {
            var clock = Stopwatch.StartNew();
            // Scopes nobody asked for before: nothing cached can answer.
            var (response, body) = await fixture.Client(StandaloneGoogle.DirectCaller).GetWithBodyAsync($"{Sa}/default/token?scopes=https://www.googleapis.com/auth/slow");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Contains("did not answer within 2.5 s", body, StringComparison.Ordinal);
            Assert.NotNull(response.Headers.RetryAfter);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"answered after {clock.Elapsed}");
        }
        finally
        {
            fixture.Google.Sts.Clear();
        }
    }

    [Fact]
    public async Task TK_10_GoogleFailing_Is503AndRecovers()
    {
        const string Path = $"{Sa}/default/token?scopes=https://www.googleapis.com/auth/flaky";
        fixture.Google.Sts.FailWith(502);
        try
        {
            var (failed, _) = await fixture.Client(StandaloneGoogle.DirectCaller).GetWithBodyAsync(Path);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, failed.StatusCode);
        }
        finally
        {
            fixture.Google.Sts.Clear();
        }

        var (recovered, body) = await fixture.Client(StandaloneGoogle.DirectCaller).GetWithBodyAsync(Path);
        Assert.Equal(HttpStatusCode.OK, recovered.StatusCode);
        Assert.Equal(TokenKind.Federated, fixture.Google.DescribeAccessToken(AccessToken(body))!.Kind);
    }

    [Fact]
    public async Task TK_3_TokenWithUnderFiveMinutesLeft_IsRefreshedOnceThenRefused()
    {
        const string Path = $"{Sa}/default/token?scopes=https://www.googleapis.com/auth/short-lived";
        var before = fixture.Google.GenerateAccessTokenCalls;
        fixture.Google.AccessTokenLifetime = TimeSpan.FromMinutes(4);
        try
        {
            var (response, body) = await fixture.Client(StandaloneGoogle.AppCaller).GetWithBodyAsync(Path);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Contains("about to expire", body, StringComparison.Ordinal);
            Assert.Equal(2, fixture.Google.GenerateAccessTokenCalls - before); // the first token, then one refresh
        }
        finally
        {
            fixture.Google.AccessTokenLifetime = TimeSpan.FromHours(1);
        }

        var (fresh, json) = await fixture.Client(StandaloneGoogle.AppCaller).GetWithBodyAsync(Path);
        Assert.Equal(HttpStatusCode.OK, fresh.StatusCode);
        using var document = JsonDocument.Parse(json);
        Assert.True(document.RootElement.GetProperty("expires_in").GetInt64() >= 300);
    }

    private static string AccessToken(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.GetProperty("access_token").GetString()!;
    }
}
