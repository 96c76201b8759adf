using System.Text;
using MetadataProxy.FunctionalTests.Infrastructure;

namespace MetadataProxy.FunctionalTests.Kubernetes;

/// <summary>A lab in which one account may ask for many new keys at once: every row of a theory below is a key of its own.</summary>
public sealed class ManyKeysLab : IAsyncLifetime
{
    public KubernetesLab Lab { get; } = new();

    public ValueTask InitializeAsync()
    {
        Lab.Settings["Tokens:NewKeysPerAccountBurst"] = "100";
        return Lab.InitializeAsync();
    }

    public ValueTask DisposeAsync() => Lab.DisposeAsync();
}

/// <summary>
/// Google answers 200 with JSON this server cannot use (a lone surrogate escape, a field of another type, a date that
/// is not one): the caller gets what any malformed answer gets, a 503 with Retry-After naming what was wrong, counted
/// as <c>upstream_unavailable</c>; never the safety net's "The token fetch failed" or a 500.
/// </summary>
public sealed class IamAnswerTests(ManyKeysLab fixture) : IClassFixture<ManyKeysLab>
{
    private const string Sa = "/computeMetadata/v1/instance/service-accounts/default";
    private const string Ns = "unreadable";
    private const string Gsa = "unreadable@test-project.iam.gserviceaccount.com";
    private const string PodIp = "127.0.0.180";
    private const string Unavailable = "metadata_proxy_requests_total{outcome=\"upstream_unavailable\",code=\"503\"}";
    private const string Expires = "\"expireTime\":\"2026-12-01T09:00:00Z\"";

    private KubernetesLab Lab => fixture.Lab;

    [Theory]
    [InlineData($$"""{"accessToken":"\ud800",{{Expires}}}""", "accessToken is not valid text (a lone surrogate escape)")]
    [InlineData($$"""{"accessToken":"ya29.\udc00x",{{Expires}}}""", "accessToken is not valid text (a lone surrogate escape)")]
    [InlineData($$"""{"accessToken":"ya29.a\u0001b",{{Expires}}}""", "accessToken has characters outside visible ASCII")]
    [InlineData($$"""{"accessToken":"ya29.\u00e9",{{Expires}}}""", "accessToken has characters outside visible ASCII")]
    [InlineData($$"""{"accessToken":42,{{Expires}}}""", "accessToken is not a string")]
    [InlineData($$"""{"accessToken":null,{{Expires}}}""", "accessToken is not a string")]
    [InlineData($$"""{"accessToken":{"value":"ya29.a"},{{Expires}}}""", "accessToken is not a string")]
    [InlineData("""{"accessToken":"ya29.a","expireTime":"\ud800"}""", "expireTime is not valid text (a lone surrogate escape)")]
    [InlineData("""{"accessToken":"ya29.a","expireTime":1796108400}""", "expireTime is not a string")]
    [InlineData("""{"accessToken":"ya29.a","expireTime":"soon"}""", "expireTime is not a timestamp")]
    [InlineData("""{"accessToken":"ya29.a","expireTime":"99999-01-01T00:00:00Z"}""", "expireTime is not a timestamp")]
    [InlineData("""{"accessToken":"ya29.a","expireTime":"9999-12-31T23:59:59-01:00"}""", "expireTime is not a timestamp")]
    [InlineData("""["ya29.a"]""", "the answer is not a JSON object")]
    [InlineData("\"ya29.a\"", "the answer is not a JSON object")]
    public async Task AccessToken_IamAnswerItCannotRead_Is503NamingTheField(string answer, string reason)
    {
        var (status, retryAfter, body, counted) = await AskWhileIamAnswersAsync(answer, $"{Sa}/token?scopes=https://www.googleapis.com/auth/unreadable-{Key(answer)}");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Equal(TimeSpan.FromSeconds(1), retryAfter);
        Assert.Contains($"IAM Credentials answered generateAccessToken with an unreadable answer: {WebUtility.HtmlEncode(reason)}; retry shortly.", body, StringComparison.Ordinal);
        Assert.Equal(1, counted);
    }

    [Theory]
    [InlineData("""{"token":"\ud800"}""", "token is not valid text (a lone surrogate escape)")]
    [InlineData("""{"token":7}""", "token is not a string")]
    [InlineData("""{"token":""}""", "token is empty")]
    [InlineData("""[]""", "the answer is not a JSON object")]
    [InlineData("""{"exp":"1796108400"}""", "token is not a JWT with an exp claim")] // the payload: exp a string
    [InlineData("""[1796108400]""", "token is not a JWT with an exp claim")] // the payload: not an object
    [InlineData("""{"exp":1796108400.5}""", "token is not a JWT with an exp claim")]
    [InlineData("""{"exp":99999999999999}""", "token is not a JWT with an exp claim")] // past year 9999
    [InlineData("""{"exp":-99999999999999}""", "token is not a JWT with an exp claim")]
    public async Task Identity_IamAnswerItCannotRead_Is503NamingTheField(string answerOrPayload, string reason)
    {
        // A row that names no token field is the payload of the JWT Google signs.
        var answer = answerOrPayload.StartsWith("""{"exp""", StringComparison.Ordinal) || answerOrPayload.StartsWith("[1", StringComparison.Ordinal)
            ? $$"""{"token":"{{Jwt(answerOrPayload)}}"}"""
            : answerOrPayload;

        var (status, retryAfter, body, counted) = await AskWhileIamAnswersAsync(answer, $"{Sa}/identity?audience=https://unreadable-{Key(answer)}.example");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Equal(TimeSpan.FromSeconds(1), retryAfter);
        Assert.Contains($"IAM Credentials answered generateIdToken with an unreadable answer: {reason}; retry shortly.", body, StringComparison.Ordinal);
        Assert.Equal(1, counted);
    }

    [Fact]
    public async Task AccessToken_IamRefusalWhoseMessageCannotBeRead_IsStillGooglesRefusal403()
    {
        await PodAsync();
        var rejected = await Lab.MetricAsync("metadata_proxy_requests_total{outcome=\"upstream_rejected\",code=\"403\"}");
        Lab.Google.Iam.FailWith(403, """{"error":{"code":403,"message":"Permission \ud800 denied","status":"PERMISSION_DENIED"}}""");
        try
        {
            var (response, body) = await Lab.Client(PodIp).GetWithBodyAsync($"{Sa}/token?scopes=https://www.googleapis.com/auth/unreadable-refusal");

            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
            Assert.Equal("Google refused the token request: PERMISSION_DENIED\n", body); // the readable part; the message is left out
        }
        finally
        {
            Lab.Google.Iam.Clear();
        }

        Assert.Equal(rejected + 1, await Lab.MetricAsync("metadata_proxy_requests_total{outcome=\"upstream_rejected\",code=\"403\"}"));
    }

    [Theory]
    [InlineData(1, false, """{"access_token":"\ud800",{{Sts}}"expires_in":3600}""", "access_token is not valid text (a lone surrogate escape)")]
    [InlineData(2, true, """{"access_token":"\ud800",{{Sts}}"expires_in":3600}""", "access_token is not valid text (a lone surrogate escape)")]
    [InlineData(3, false, """{"access_token":"ya29.\u00e9",{{Sts}}"expires_in":3600}""", "access_token has characters outside visible ASCII")]
    [InlineData(4, true, """{"access_token":42,{{Sts}}"expires_in":3600}""", "access_token is not a string")]
    [InlineData(5, false, """{"access_token":"ya29.sts",{{Sts}}"expires_in":99999999999999}""", "expires_in 99999999999999 is not a token lifetime")]
    [InlineData(6, true, """{"access_token":"ya29.sts",{{Sts}}"expires_in":99999999999999}""", "expires_in 99999999999999 is not a token lifetime")]
    [InlineData(7, true, """{"access_token":"ya29.sts",{{Sts}}"expires_in":"99999999999999"}""", "expires_in \"99999999999999\" is not a token lifetime")]
    [InlineData(8, true, """{"access_token":"ya29.sts",{{Sts}}"expires_in":-5}""", "expires_in -5 is not a token lifetime")]
    [InlineData(9, false, """{"access_token":"ya29.sts",{{Sts}}"expires_in":3600.5}""", "expires_in 3600.5 is not a token lifetime")]
    public async Task StsAnswerItCannotUse_Is503WithTheReason_AndNothingOfItIsKept(int row, bool impersonating, string template, string reason)
    {
        var answer = template.Replace("{{Sts}}", "\"issued_token_type\":\"urn:ietf:params:oauth:token-type:access_token\",\"token_type\":\"Bearer\",", StringComparison.Ordinal);
        var ip = $"127.0.0.{190 + row}";
        var ksa = $"sts-{row}";
        var gsa = impersonating ? $"sts-{row}@test-project.iam.gserviceaccount.com" : null;
        if (gsa is not null)
            Lab.Google.AllowImpersonation(KubernetesLab.PrincipalOf(Ns, ksa), gsa);
        var before = await Lab.MetricAsync(Unavailable);
        Lab.Google.Sts.FailWith(200, answer); // before the pod: its prefetch meets it too, so nothing was exchanged before
        try
        {
            Lab.AddPod(Ns, $"{ksa}-1", ip, ksa, gsa: gsa);
            await KubernetesLab.WaitUntilAsync(async () => (await Lab.Client(ip).GetAsync($"{Sa}/email", flavor: true)).StatusCode == HttpStatusCode.OK);
            var (response, body) = await Lab.Client(ip).GetWithBodyAsync($"{Sa}/token?scopes=https://www.googleapis.com/auth/unreadable-sts");

            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Equal(TimeSpan.FromSeconds(1), response.Headers.RetryAfter?.Delta);
            Assert.Equal(WebUtility.HtmlEncode($"Google failed the token request: invalid_response: STS answered with an unreadable token: {reason}") + "\n", body);
            Assert.True(await Lab.MetricAsync(Unavailable) > before);
        }
        finally
        {
            Lab.Google.Sts.Clear();
        }

        // Nothing of the answer was kept: with STS well again the account's next token comes (an impersonating account's
        // federated credential once kept an expires_in no date can hold and threw on every use after).
        var (recovered, token) = await Lab.Client(ip).GetWithBodyAsync($"{Sa}/token?scopes=https://www.googleapis.com/auth/unreadable-sts-after");
        Assert.Equal(HttpStatusCode.OK, recovered.StatusCode);
        Assert.Contains("\"access_token\":\"ya29.", token, StringComparison.Ordinal);
    }

    private async Task PodAsync()
    {
        Lab.Google.AllowImpersonation(KubernetesLab.PrincipalOf(Ns, "app"), Gsa);
        if (Lab.Kube.GetPod(Ns, "app-1") is null) // the rows of a theory share it
            Lab.AddPod(Ns, "app-1", PodIp, "app", gsa: Gsa);
        await Lab.WaitForEmailAsync(PodIp, Gsa);
    }

    /// <summary>One request while IAM answers 200 with <paramref name="answer"/>: its status, Retry-After, body, and how many 503s it added.</summary>
    private async Task<(HttpStatusCode Status, TimeSpan? RetryAfter, string Body, double Counted)> AskWhileIamAnswersAsync(string answer, string path)
    {
        await PodAsync();
        var before = await Lab.MetricAsync(Unavailable);
        Lab.Google.Iam.FailWith(200, answer);
        try
        {
            var (response, body) = await Lab.Client(PodIp).GetWithBodyAsync(path);
            return (response.StatusCode, response.Headers.RetryAfter?.Delta, body, await Lab.MetricAsync(Unavailable) - before);
        }
        finally
        {
            Lab.Google.Iam.Clear();
        }
    }

    /// <summary>A key of its own for every row (a refusal is remembered per key for a while).</summary>
    private static string Key(string answer) => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(answer)))[..12].ToLowerInvariant();

    private static string Jwt(string payload) => $"{B64("""{"alg":"RS256"}""")}.{B64(payload)}.c2ln";

    private static string B64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
