using System.Text.Json.Nodes;
using MetadataProxy.TestServers.Jwt;

namespace MetadataProxy.FunctionalTests.TestServers.Google;

/// <summary>Every STS refusal: HTTP 400 with an OAuth error code and a precise description.</summary>
public class StsRejectionTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("wrong-audience", "The audience in ID Token [https://kubernetes.default.svc] does not match the expected audience //iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/test-pool/providers/kubernetes or https://iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/test-pool/providers/kubernetes.")]
    [InlineData("wrong-issuer", "The issuer in ID Token https://evil.example does not match the expected ones: https://kubernetes.test.example.")]
    [InlineData("bad-signature", "Invalid ID Token: invalid JWT signature.")]
    [InlineData("unknown-kid", "Invalid ID Token: no key with kid 'rotated-key' in the issuer's JWKS.")]
    [InlineData("not-a-jwt", "Invalid ID Token: subject token is not a compact JWS (expected three dot-separated parts).")]
    [InlineData("expired", "ID Token expired at ")]
    [InlineData("issued-in-future", "ID Token issued at ")]
    [InlineData("lifetime-over-48h", "ID Token lifetime (exp - iat) of 176400s exceeds the maximum of 172800s.")]
    [InlineData("no-exp", "ID Token is missing the \"exp\" claim.")]
    [InlineData("no-sub", "The mapped attribute google.subject is empty: ID Token is missing the \"sub\" claim.")]
    [InlineData("sub-over-127-bytes", "The size of mapped attribute google.subject exceeds the 127 bytes limit.")]
    public async Task Exchange_InvalidSubjectToken_InvalidGrant(string defect, string description)
    {
        await using var scenario = await FederationScenario.StartAsync(Ct);
        using var impostor = new JwtSigner(defect == "unknown-kid" ? "rotated-key" : scenario.KubeSigner.KeyId);
        var now = scenario.Google.Time.GetUtcNow().ToUnixTimeSeconds();
        var token = defect switch
        {
            "wrong-audience" => scenario.MintSubjectToken(c => c["aud"] = "https://kubernetes.default.svc"),
            "wrong-issuer" => scenario.MintSubjectToken(c => c["iss"] = "https://evil.example"),
            "bad-signature" or "unknown-kid" => scenario.MintSubjectToken(signer: impostor),
            "not-a-jwt" => "not-a-jwt",
            "expired" => scenario.MintSubjectToken(c => (c["iat"], c["exp"]) = (now - 700, now - 100)),
            "issued-in-future" => scenario.MintSubjectToken(c => (c["iat"], c["nbf"], c["exp"]) = (now + 600, now + 600, now + 1200)),
            "lifetime-over-48h" => scenario.MintSubjectToken(c => c["exp"] = now + (49 * 3600)),
            "no-exp" => scenario.MintSubjectToken(c => c.Remove("exp")),
            "no-sub" => scenario.MintSubjectToken(c => c.Remove("sub")),
            "sub-over-127-bytes" => scenario.MintSubjectToken(c => c["sub"] = new string('x', 128)),
            _ => throw new ArgumentOutOfRangeException(nameof(defect)),
        };

        var (status, body) = await scenario.PostStsAsync(token);

        Assert.Equal(400, status);
        Assert.Equal("invalid_grant", (string?)body["error"]);
        Assert.StartsWith(description, (string?)body["error_description"], StringComparison.Ordinal);
        Assert.Equal(1, scenario.Google.StsCalls);
        Assert.Null(Assert.Single(scenario.Google.StsRequests).IssuedAccessToken);
    }

    [Theory]
    [InlineData("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer", "unsupported_grant_type", "Invalid value for \"grant_type\"")]
    [InlineData("grant_type", null, "invalid_request", "Missing required parameter: \"grant_type\".")]
    [InlineData("requested_token_type", "urn:ietf:params:oauth:token-type:id_token", "invalid_request", "Invalid value for \"requested_token_type\"")]
    [InlineData("subject_token_type", "urn:ietf:params:oauth:token-type:saml2", "invalid_request", "Invalid value for \"subject_token_type\"")]
    [InlineData("subject_token", null, "invalid_request", "Missing required parameter: \"subject_token\".")]
    [InlineData("audience", "https://iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/test-pool/providers/kubernetes", "invalid_request", "Invalid value for \"audience\". This value should be the full resource name of the Identity Provider.")]
    [InlineData("audience", "//iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/test-pool/providers/deleted", "invalid_target", "The target service indicated by the \"audience\" parameters is invalid.")]
    [InlineData("options", "userProject=p", "invalid_request", "Invalid value for \"options\"")]
    public async Task Exchange_InvalidFormField_RejectedWithOAuthError(string field, string? value, string error, string description)
    {
        await using var scenario = await FederationScenario.StartAsync(Ct);

        var (status, body) = await scenario.PostStsAsync(scenario.MintSubjectToken(), form =>
        {
            if (value is null)
            {
                form.Remove(field);
            }
            else
            {
                form[field] = value;
            }
        });

        Assert.Equal(400, status);
        Assert.Equal(error, (string?)body["error"]);
        Assert.StartsWith(description, (string?)body["error_description"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Exchange_JsonBody_InvalidRequest()
    {
        await using var scenario = await FederationScenario.StartAsync(Ct);
        using var content = new StringContent("{\"grantType\":\"urn:ietf:params:oauth:grant-type:token-exchange\"}", System.Text.Encoding.UTF8, "application/json");

        using var response = await scenario.Http.PostAsync(scenario.Google.StsTokenUrl, content, Ct);

        Assert.Equal(400, (int)response.StatusCode);
        var body = await FederationScenario.ReadJsonAsync(response);
        Assert.Equal("invalid_request", (string?)body["error"]);
    }

    [Fact]
    public async Task Exchange_InvalidGrant_RecordsTheRejection()
    {
        await using var scenario = await FederationScenario.StartAsync(Ct);

        await scenario.PostStsAsync(scenario.MintSubjectToken(c => c["aud"] = new JsonArray("a", "b")));

        var record = Assert.Single(scenario.Google.StsRequests);
        Assert.Equal(400, record.Status);
        Assert.Equal("invalid_grant", record.Error);
        Assert.StartsWith("The audience in ID Token [a, b]", record.ErrorDescription, StringComparison.Ordinal);
        Assert.Equal(FederationScenario.KsaSubject, record.Subject);
    }
}
