using System.Text.Json;
using System.Text.Json.Nodes;

namespace MetadataProxy.TestServers.Google;

/// <summary>
/// Where a Workload Identity provider finds the issuer's signing keys: a JWKS uploaded with the provider
/// (<c>--jwk-json-path</c>), a JWKS URI, or OIDC discovery from the issuer URL as Google does for public issuers.
/// Remote keys are fetched on every exchange so tests can rotate them.
/// </summary>
public sealed class JwksSource
{
    private JwksSource(JsonObject? uploaded, Uri? jwksUri)
    {
        Uploaded = uploaded;
        JwksUri = jwksUri;
    }

    /// <summary>GET <c>{issuer}/.well-known/openid-configuration</c>, then its <c>jwks_uri</c>.</summary>
    public static JwksSource Discovery { get; } = new(null, null);

    internal JsonObject? Uploaded { get; }

    internal Uri? JwksUri { get; }

    public static JwksSource FromJson(string jwksJson)
    {
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(jwksJson);
        }
        catch (JsonException e)
        {
            throw new ArgumentException("Input JWK is not in a valid json format.", nameof(jwksJson), e);
        }

        return FromJsonObject(node as JsonObject ?? throw new ArgumentException("Input JWK is not a JSON object.", nameof(jwksJson)));
    }

    public static JwksSource FromJsonObject(JsonObject jwks)
    {
        if (jwks["keys"] is not JsonArray { Count: > 0 })
        {
            throw new ArgumentException("Input JWK has no \"keys\" array.", nameof(jwks));
        }

        return new JwksSource(jwks.DeepClone().AsObject(), null);
    }

    public static JwksSource FromUri(Uri jwksUri) => new(null, jwksUri);

    public override string ToString() =>
        Uploaded is not null ? "uploaded JWKS" : JwksUri is not null ? $"JWKS at {JwksUri}" : "OIDC discovery";
}
