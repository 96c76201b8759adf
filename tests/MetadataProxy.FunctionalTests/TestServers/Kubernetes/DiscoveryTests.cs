using System.Text.Json.Nodes;

namespace MetadataProxy.FunctionalTests.TestServers.Kubernetes;

public sealed class DiscoveryTests : KubernetesServerFixture
{
    [Fact]
    public async Task OpenIdConfiguration_WithoutBearer_DescribesTheIssuerAndItsKeys()
    {
        using var http = RawHttp.Create(Server, authenticated: false);

        var document = JsonNode.Parse(await http.GetStringAsync(".well-known/openid-configuration", Ct))!;

        Assert.Equal(Server.Issuer, (string?)document["issuer"]);
        Assert.Equal(new Uri(Server.BaseAddress, "openid/v1/jwks").AbsoluteUri, (string?)document["jwks_uri"]);
        Assert.Equal("id_token", (string?)document["response_types_supported"]![0]);
        Assert.Equal("public", (string?)document["subject_types_supported"]![0]);
        Assert.Equal("RS256", (string?)document["id_token_signing_alg_values_supported"]![0]);
    }

    [Fact]
    public async Task Jwks_FromTheJwksUri_IsTheServersKeySet()
    {
        using var http = RawHttp.Create(Server, authenticated: false);

        using var response = await http.GetAsync("openid/v1/jwks", Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/jwk-set+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(Server.JwksJson, await response.Content.ReadAsStringAsync(Ct));
        Assert.StartsWith("http://127.0.0.1:", Server.Issuer, StringComparison.Ordinal);
        Assert.False(Server.Issuer.EndsWith('/'));
    }
}
