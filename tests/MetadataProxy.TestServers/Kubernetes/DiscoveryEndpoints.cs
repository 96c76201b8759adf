using System.Text.Json.Nodes;
using MetadataProxy.TestServers.Jwt;

namespace MetadataProxy.TestServers.Kubernetes;

/// <summary>The service-account issuer's OIDC discovery document and its keys, as the kube-apiserver serves them.</summary>
internal static class DiscoveryEndpoints
{
    public static void MapDiscovery(this IEndpointRouteBuilder app)
    {
        app.MapGet("/.well-known/openid-configuration", (ServerSettings settings) => Results.Content(
            new JsonObject
            {
                ["issuer"] = settings.Issuer,
                ["jwks_uri"] = settings.BaseAddress.AbsoluteUri + "openid/v1/jwks",
                ["response_types_supported"] = new JsonArray("id_token"),
                ["subject_types_supported"] = new JsonArray("public"),
                ["id_token_signing_alg_values_supported"] = new JsonArray("RS256"),
            }.ToJsonString(),
            KubeResults.JsonContentType));
        app.MapGet("/openid/v1/jwks", (JwtSigner signer) => Results.Content(signer.JwksJson(), "application/jwk-set+json"));
    }
}
