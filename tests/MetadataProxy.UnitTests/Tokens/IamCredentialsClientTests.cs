using System.Text;
using System.Text.Json;
using Google.Apis.Http;
using MetadataProxy.Tokens;
using Microsoft.Extensions.Time.Testing;

namespace MetadataProxy.UnitTests.Tokens;

/// <summary>
/// The wire side of IAM Credentials as this server speaks it (the functional tests run it against the Google test
/// server): what is sent, how answers are read, and how every kind of failure ends as a refusal of the right kind.
/// </summary>
public sealed class IamCredentialsClientTests
{
    private const string Gsa = "app@test-project.iam.gserviceaccount.com";
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(2.5);
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 5, 0, 0, TimeSpan.Zero));

    [Fact]
    public async Task AccessToken_SendsGooglesRequestAndReadsTheExpireTime()
    {
        var google = new Canned(HttpStatusCode.OK, """{"accessToken":"ya29.a","expireTime":"2026-12-01T06:00:00Z"}""");

        var outcome = await RunAsync(google, c => c.GenerateAccessTokenAsync(Gsa, ["https://www.googleapis.com/auth/a", "https://www.googleapis.com/auth/b"], TestContext.Current.CancellationToken));

        var token = Assert.IsType<TokenOutcome.AccessToken>(outcome);
        Assert.Equal("ya29.a", token.Value);
        Assert.Equal(new DateTimeOffset(2026, 12, 1, 6, 0, 0, TimeSpan.Zero), token.ExpiresAt);
        Assert.Equal(HttpMethod.Post, google.Method);
        Assert.Equal($"https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/{Gsa}:generateAccessToken", google.Uri?.AbsoluteUri);
        Assert.Equal("application/json", google.ContentType);
        using var body = JsonDocument.Parse(google.Body!);
        Assert.Empty(body.RootElement.GetProperty("delegates").EnumerateArray());
        Assert.Equal(["https://www.googleapis.com/auth/a", "https://www.googleapis.com/auth/b"], body.RootElement.GetProperty("scope").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("3600s", body.RootElement.GetProperty("lifetime").GetString());
    }

    [Fact]
    public async Task IdToken_AsksWithTheEmailAndReadsTheExpiryFromTheJwt()
    {
        var jwt = Jwt("""{"aud":"https://x.example","exp":1796108400}""");
        var google = new Canned(HttpStatusCode.OK, $$"""{"token":"{{jwt}}"}""");

        var outcome = await RunAsync(google, c => c.GenerateIdTokenAsync(Gsa, "https://x.example", TestContext.Current.CancellationToken));

        var token = Assert.IsType<TokenOutcome.IdToken>(outcome);
        Assert.Equal(jwt, token.Jwt);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1796108400), token.ExpiresAt);
        Assert.EndsWith(":generateIdToken", google.Uri?.AbsoluteUri, StringComparison.Ordinal);
        using var body = JsonDocument.Parse(google.Body!);
        Assert.Equal("https://x.example", body.RootElement.GetProperty("audience").GetString());
        Assert.True(body.RootElement.GetProperty("includeEmail").GetBoolean());
    }

    [Theory]
    [InlineData(HttpStatusCode.Forbidden, """{"error":{"code":403,"message":"Permission 'iam.serviceAccounts.getAccessToken' denied on resource (or it may not exist).","status":"PERMISSION_DENIED"}}""",
        true, "Google refused the token request: PERMISSION_DENIED: Permission 'iam.serviceAccounts.getAccessToken' denied")]
    [InlineData(HttpStatusCode.NotFound, """{"error":{"code":404,"message":"Not found; Gaia id not found for email x","status":"NOT_FOUND"}}""",
        true, "Google refused the token request: NOT_FOUND: Not found")]
    [InlineData(HttpStatusCode.TooManyRequests, """{"error":{"code":429,"message":"Quota exceeded","status":"RESOURCE_EXHAUSTED"}}""",
        false, "Google failed the token request: RESOURCE_EXHAUSTED: Quota exceeded")]
    [InlineData(HttpStatusCode.ServiceUnavailable, "<html>upstream connect error</html>",
        false, "Google failed the token request: <html>upstream connect error</html>")]
    [InlineData(HttpStatusCode.BadGateway, "", false, "Google failed the token request: Bad Gateway")]
    [InlineData(HttpStatusCode.OK, "not json", false, "Google failed the token request: IAM Credentials answered generateAccessToken with a body that is not JSON.")]
    [InlineData(HttpStatusCode.OK, """{"accessToken":"ya29.a"}""", false, "IAM Credentials answered generateAccessToken with an unreadable answer: expireTime is missing; retry shortly.")]
    [InlineData(HttpStatusCode.OK, """{"expireTime":"2026-12-01T06:00:00Z"}""", false, "IAM Credentials answered generateAccessToken with an unreadable answer: accessToken is missing; retry shortly.")]
    [InlineData(HttpStatusCode.OK, """{"accessToken":"","expireTime":"2026-12-01T06:00:00Z"}""", false, "IAM Credentials answered generateAccessToken with an unreadable answer: accessToken is empty; retry shortly.")]
    [InlineData(HttpStatusCode.OK, """{"accessToken":"ya29.a","expireTime":"soon"}""", false, "IAM Credentials answered generateAccessToken with an unreadable answer: expireTime is not a timestamp; retry shortly.")]
    [InlineData(HttpStatusCode.OK, """{"accessToken":"\ud800","expireTime":"2026-12-01T06:00:00Z"}""", false,
        "IAM Credentials answered generateAccessToken with an unreadable answer: accessToken is not valid text (a lone surrogate escape); retry shortly.")]
    [InlineData(HttpStatusCode.OK, """{"accessToken":"ya29 a","expireTime":"2026-12-01T06:00:00Z"}""", false,
        "IAM Credentials answered generateAccessToken with an unreadable answer: accessToken has characters outside visible ASCII; retry shortly.")]
    [InlineData(HttpStatusCode.OK, """{"accessToken":"ya29.a","expireTime":"\udfff"}""", false,
        "IAM Credentials answered generateAccessToken with an unreadable answer: expireTime is not valid text (a lone surrogate escape); retry shortly.")]
    [InlineData(HttpStatusCode.OK, """{"accessToken":"ya29.a","expireTime":true}""", false, "IAM Credentials answered generateAccessToken with an unreadable answer: expireTime is not a string; retry shortly.")]
    [InlineData(HttpStatusCode.OK, "null", false, "IAM Credentials answered generateAccessToken with an unreadable answer: the answer is not a JSON object; retry shortly.")]
    [InlineData(HttpStatusCode.Forbidden, """{"error":{"code":403,"message":"\ud800","status":"PERMISSION_DENIED"}}""", true, "Google refused the token request: PERMISSION_DENIED")]
    [InlineData(HttpStatusCode.Forbidden, """{"error":{"code":403,"message":"\ud800","status":7}}""", true, "Google refused the token request: Forbidden")]
    [InlineData(HttpStatusCode.ServiceUnavailable, """{"error":"\ud800"}""", false, "Google failed the token request: Service Unavailable")]
    public async Task AccessTokenFailures_EndAsRefusalsOfTheirKind(HttpStatusCode status, string answer, bool rejected, string message)
    {
        var outcome = await RunAsync(new Canned(status, answer), c => c.GenerateAccessTokenAsync(Gsa, ["https://www.googleapis.com/auth/cloud-platform"], TestContext.Current.CancellationToken));

        var refused = Assert.IsType<TokenOutcome.Refused>(outcome);
        Assert.Equal(rejected ? TokenRefusal.UpstreamRejected : TokenRefusal.UpstreamUnavailable, refused.Reason);
        Assert.StartsWith(message, refused.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"token":"not-a-jwt"}""", "token is not a JWT with an exp claim")]
    [InlineData("""{"token":""}""", "token is empty")]
    [InlineData("""{}""", "token is missing")]
    [InlineData("""{"token":["a.b.c"]}""", "token is not a string")]
    [InlineData("""{"token":"\ud800"}""", "token is not valid text (a lone surrogate escape)")]
    [InlineData("""[{"token":"a.b.c"}]""", "the answer is not a JSON object")]
    public async Task IdTokenWithoutAnExpiry_IsRefusedAsUnavailable(string answer, string problem)
    {
        var outcome = await RunAsync(new Canned(HttpStatusCode.OK, answer), c => c.GenerateIdTokenAsync(Gsa, "https://x.example", TestContext.Current.CancellationToken));

        var refused = Assert.IsType<TokenOutcome.Refused>(outcome);
        Assert.Equal(TokenRefusal.UpstreamUnavailable, refused.Reason);
        Assert.Equal($"IAM Credentials answered generateIdToken with an unreadable answer: {problem}; retry shortly.", refused.Message);
    }

    private Task<TokenOutcome> RunAsync(Canned google, Func<IamCredentialsClient, Task<TokenOutcome>> call)
    {
        var client = new IamCredentialsClient(new ConfigurableHttpClient(new ConfigurableMessageHandler(google)));
        return UpstreamCall.RunAsync(Deadline, _time, _ => call(client), TestContext.Current.CancellationToken);
    }

    private static string Jwt(string payload) =>
        $"{B64("""{"alg":"RS256"}""")}.{B64(payload)}.c2ln";

    private static string B64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>Google at the far end of the client's stack: answers once with what it was given and keeps what it received.</summary>
    private sealed class Canned(HttpStatusCode status, string answer) : HttpMessageHandler
    {
        public HttpMethod? Method { get; private set; }

        public Uri? Uri { get; private set; }

        public string? ContentType { get; private set; }

        public string? Body { get; private set; }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Method = request.Method;
            Uri = request.RequestUri;
            ContentType = request.Content?.Headers.ContentType?.MediaType;
            Body = request.Content is null ? null : await request.Content.ReadAsStringAsync(cancellationToken);
            return new HttpResponseMessage(status) { Content = new StringContent(answer, Encoding.UTF8, "application/json") };
        }
    }
}
