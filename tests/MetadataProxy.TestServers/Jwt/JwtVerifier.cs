using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace MetadataProxy.TestServers.Jwt;

/// <summary>Verifies compact RS256 JWTs against a JWKS; says why a token is refused.</summary>
public static class JwtVerifier
{
    public static bool TryVerify(string jwt, JsonObject jwks, out JsonObject? payload, out string? error)
    {
        payload = null;
        var parts = jwt.Split('.');
        if (parts.Length != 3)
        {
            error = "subject token is not a compact JWS (expected three dot-separated parts)";
            return false;
        }

        JsonObject? header;
        try
        {
            header = JsonNode.Parse(Base64Url.Decode(parts[0])) as JsonObject;
            payload = JsonNode.Parse(Base64Url.Decode(parts[1])) as JsonObject;
        }
        catch (Exception e) when (e is FormatException or JsonException)
        {
            error = "subject token header or payload is not base64url JSON";
            return false;
        }

        if (header is null || payload is null)
        {
            error = "subject token header or payload is not a JSON object";
            return false;
        }

        if ((string?)header["alg"] != "RS256")
        {
            error = $"unsupported signing algorithm '{header["alg"]}'";
            return false;
        }

        var kid = (string?)header["kid"];
        if (string.IsNullOrEmpty(kid))
        {
            error = "subject token has no 'kid' header";
            return false;
        }

        var jwk = (jwks["keys"] as JsonArray)?.OfType<JsonObject>().FirstOrDefault(k => (string?)k["kid"] == kid);
        if (jwk is null)
        {
            error = $"no key with kid '{kid}' in the issuer's JWKS";
            return false;
        }

        using var rsa = RSA.Create();
        rsa.ImportParameters(new RSAParameters
        {
            Modulus = Base64Url.Decode((string)jwk["n"]!),
            Exponent = Base64Url.Decode((string)jwk["e"]!),
        });
        byte[] signature;
        try
        {
            signature = Base64Url.Decode(parts[2]);
        }
        catch (FormatException)
        {
            error = "signature is not base64url";
            return false;
        }

        if (!rsa.VerifyData(Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]), signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1))
        {
            error = "invalid JWT signature";
            return false;
        }

        error = null;
        return true;
    }
}
