using System.Globalization;
using System.Text.Json.Nodes;
using MetadataProxy.TestServers.Google;
using Microsoft.Extensions.Time.Testing;

namespace MetadataProxy.FunctionalTests.TestServers.Google;

/// <summary>IAM Credentials over raw HTTP: Google's error shapes and what a caller may and may not do.</summary>
public class IamCredentialsTests
{
    private const string AccessTokenBody = """{"scope":["https://www.googleapis.com/auth/cloud-platform"],"lifetime":"3600s"}""";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task GenerateAccessToken_BoundCaller_ReturnsAccessTokenAndRfc3339Expiry()
    {
        await using var scenario = await FederationScenario.StartAsync(Ct);

        using var response = await scenario.PostIamAsync("generateAccessToken", scenario.KsaBearer(), AccessTokenBody);

        Assert.Equal(200, (int)response.StatusCode);
        var body = await FederationScenario.ReadJsonAsync(response);
        var expiry = DateTimeOffset.ParseExact((string)body["expireTime"]!, "yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
        var info = scenario.Google.DescribeAccessToken((string)body["accessToken"]!);
        Assert.Equal(info?.ExpiresAt.ToUnixTimeSeconds(), expiry.ToUnixTimeSeconds());
    }

    [Fact]
    public async Task GenerateAccessToken_NoBearer_Unauthenticated()
    {
        await using var scenario = await FederationScenario.StartAsync(Ct);

        using var response = await scenario.PostIamAsync("generateAccessToken", null, AccessTokenBody);

        var error = await ErrorOf(response, 401, "UNAUTHENTICATED");
        Assert.StartsWith("Request is missing required authentication credential.", (string?)error["message"], StringComparison.Ordinal);
        Assert.Equal("Bearer realm=\"https://accounts.google.com/\"", response.Headers.WwwAuthenticate.ToString());
    }

    [Fact]
    public async Task GenerateAccessToken_UnknownBearer_Unauthenticated()
    {
        await using var scenario = await FederationScenario.StartAsync(Ct);

        using var response = await scenario.PostIamAsync("generateAccessToken", "ya29.forged", AccessTokenBody);

        var error = await ErrorOf(response, 401, "UNAUTHENTICATED");
        Assert.StartsWith("Request had invalid authentication credentials.", (string?)error["message"], StringComparison.Ordinal);
        Assert.Null(Assert.Single(scenario.Google.IamRequests).BearerPrincipal);
    }

    [Fact]
    public async Task GenerateAccessToken_ExpiredBearer_Unauthenticated()
    {
        await using var scenario = await FederationScenario.StartAsync(Ct);
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        scenario.Google.Time = clock;
        var bearer = scenario.Google.IssueAccessToken(FederationScenario.KsaPrincipal, TimeSpan.FromMinutes(5));
        clock.Advance(TimeSpan.FromMinutes(5));

        using var response = await scenario.PostIamAsync("generateAccessToken", bearer, AccessTokenBody);

        var error = await ErrorOf(response, 401, "UNAUTHENTICATED");
        Assert.Equal("ACCESS_TOKEN_EXPIRED", (string?)error["details"]![0]!["reason"]);
    }

    [Theory]
    [InlineData("generateAccessToken", """{"lifetime":"3600s"}""", "Request contains an invalid argument.")]
    [InlineData("generateAccessToken", """{"scopes":["https://www.googleapis.com/auth/cloud-platform"]}""", "Invalid JSON payload received. Unknown name \"scopes\": Cannot find field.")]
    [InlineData("generateAccessToken", """{"scope":"https://www.googleapis.com/auth/cloud-platform"}""", "Invalid JSON payload received. Invalid value at 'scope'")]
    [InlineData("generateAccessToken", """{"scope":["x"],"lifetime":"3600"}""", "Invalid value at 'lifetime' (type.googleapis.com/google.protobuf.Duration)")]
    [InlineData("generateAccessToken", """{"scope":["x"],"lifetime":"7200s"}""", "The lifetime must be between 1s and 3600s.")]
    [InlineData("generateIdToken", """{"includeEmail":true}""", "Request contains an invalid argument.")]
    [InlineData("generateIdToken", "not json", "Invalid JSON payload received.")]
    public async Task Generate_InvalidBody_InvalidArgument(string verb, string json, string message)
    {
        await using var scenario = await FederationScenario.StartAsync(Ct);

        using var response = await scenario.PostIamAsync(verb, scenario.KsaBearer(), json);

        var error = await ErrorOf(response, 400, "INVALID_ARGUMENT");
        Assert.StartsWith(message, (string?)error["message"], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("generateAccessToken", """{"scope":["x"]}""", "iam.serviceAccounts.getAccessToken")]
    [InlineData("generateIdToken", """{"audience":"a"}""", "iam.serviceAccounts.getOpenIdToken")]
    public async Task Generate_UnboundServiceAccount_PermissionDeniedNamingThePermission(string verb, string json, string permission)
    {
        await using var scenario = await FederationScenario.StartAsync(Ct);

        using var response = await scenario.PostIamAsync(verb, scenario.KsaBearer(), json, "other@test-project.iam.gserviceaccount.com");

        var error = await ErrorOf(response, 403, "PERMISSION_DENIED");
        Assert.Equal($"Permission '{permission}' denied on resource (or it may not exist).", (string?)error["message"]);
        Assert.Equal("IAM_PERMISSION_DENIED", (string?)error["details"]![0]!["reason"]);
        Assert.Equal(permission, (string?)error["details"]![0]!["metadata"]!["permission"]);
    }

    [Fact]
    public async Task GenerateAccessToken_BearerWithoutIamScope_InsufficientScopes()
    {
        await using var scenario = await FederationScenario.StartAsync(Ct);
        var (_, sts) = await scenario.PostStsAsync(scenario.MintSubjectToken(), form => form["scope"] = "https://www.googleapis.com/auth/devstorage.read_only");

        using var response = await scenario.PostIamAsync("generateAccessToken", (string)sts["access_token"]!, AccessTokenBody);

        var error = await ErrorOf(response, 403, "PERMISSION_DENIED");
        Assert.Equal("Request had insufficient authentication scopes.", (string?)error["message"]);
    }

    [Fact]
    public async Task GenerateAccessToken_PoolPrincipalSetBinding_AllowsEverySubjectOfThePool()
    {
        await using var scenario = await FederationScenario.StartAsync(Ct);
        const string Pool = "principalSet://iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/test-pool/*";
        scenario.Google.AllowImpersonation(Pool, "shared@test-project.iam.gserviceaccount.com");
        var bearer = scenario.Google.IssueAccessToken(GoogleTestServer.PrincipalFor("123456789012", "test-pool", "system:serviceaccount:b:other"));

        using var response = await scenario.PostIamAsync("generateAccessToken", bearer, AccessTokenBody, "shared@test-project.iam.gserviceaccount.com");

        Assert.Equal(200, (int)response.StatusCode);
    }

    [Fact]
    public async Task GenerateAccessToken_Delegates_RequireEveryHop()
    {
        await using var scenario = await FederationScenario.StartAsync(Ct);
        const string Target = "target@test-project.iam.gserviceaccount.com";
        var body = $$"""{"delegates":["projects/-/serviceAccounts/{{FederationScenario.Gsa}}"],"scope":["https://www.googleapis.com/auth/cloud-platform"]}""";

        using var denied = await scenario.PostIamAsync("generateAccessToken", scenario.KsaBearer(), body, Target);
        scenario.Google.AllowImpersonation("serviceAccount:" + FederationScenario.Gsa, Target);
        using var allowed = await scenario.PostIamAsync("generateAccessToken", scenario.KsaBearer(), body, Target);

        Assert.Equal(403, (int)denied.StatusCode);
        Assert.Equal(200, (int)allowed.StatusCode);
        Assert.Equal([$"projects/-/serviceAccounts/{FederationScenario.Gsa}"], scenario.Google.IamRequests[^1].Delegates);
    }

    [Fact]
    public async Task GenerateAccessToken_AccessTokenLifetimeShorterThanRequested_CapsExpiry()
    {
        await using var scenario = await FederationScenario.StartAsync(Ct);
        scenario.Google.AccessTokenLifetime = TimeSpan.FromMinutes(10);

        using var response = await scenario.PostIamAsync("generateAccessToken", scenario.KsaBearer(), AccessTokenBody);

        var info = scenario.Google.DescribeAccessToken((string)(await FederationScenario.ReadJsonAsync(response))["accessToken"]!);
        Assert.Equal(TimeSpan.FromMinutes(10), info!.ExpiresAt - info.IssuedAt);
    }

    [Fact]
    public async Task GenerateAccessToken_UserProjectHeader_RecordedAndKeptAsQuotaProject()
    {
        await using var scenario = await FederationScenario.StartAsync(Ct);

        using var response = await scenario.PostIamAsync("generateAccessToken", scenario.KsaBearer(), AccessTokenBody, userProject: "quota-2");

        Assert.Equal("quota-2", Assert.Single(scenario.Google.IamRequests).UserProject);
        var info = scenario.Google.DescribeAccessToken((string)(await FederationScenario.ReadJsonAsync(response))["accessToken"]!);
        Assert.Equal("quota-2", info!.QuotaProject);
    }

    [Fact]
    public async Task SignBlob_AnyCaller_NotFound()
    {
        await using var scenario = await FederationScenario.StartAsync(Ct);

        using var response = await scenario.PostIamAsync("signBlob", scenario.KsaBearer(), """{"payload":"aGk="}""");

        await ErrorOf(response, 404, "NOT_FOUND");
        Assert.Equal(IamMethod.Other, Assert.Single(scenario.Google.IamRequests).Method);
    }

    [Fact]
    public async Task IssueAccessToken_UserPrincipal_DescribedAsUserWithCloudPlatform()
    {
        await using var scenario = await FederationScenario.StartAsync(Ct);

        var info = scenario.Google.DescribeAccessToken(scenario.Google.IssueAccessToken("user:alice@example.com"));

        Assert.Equal(TokenKind.User, info?.Kind);
        Assert.Equal("user:alice@example.com", info?.Principal);
        Assert.Equal([FederationScenario.CloudPlatform], info?.Scopes);
    }

    [Fact]
    public async Task GetCerts_Always_ServesGoogleJwks()
    {
        await using var scenario = await FederationScenario.StartAsync(Ct);

        var served = await scenario.Http.GetStringAsync(scenario.Google.GoogleCertsUrl, Ct);

        Assert.Equal(scenario.Google.GoogleJwksJson, served);
        Assert.Equal("RSA", (string?)JsonNode.Parse(served)!["keys"]![0]!["kty"]);
    }

    private static async Task<JsonNode> ErrorOf(HttpResponseMessage response, int code, string status)
    {
        Assert.Equal(code, (int)response.StatusCode);
        var error = (await FederationScenario.ReadJsonAsync(response))["error"]!;
        Assert.Equal(code, (int?)error["code"]);
        Assert.Equal(status, (string?)error["status"]);
        return error;
    }
}
