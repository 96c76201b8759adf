using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace MetadataProxy.TestServers.Jwt;

/// <summary>An RS256 signing key with a key id, published as a JWKS the way Kubernetes and Google do.</summary>
public sealed class JwtSigner : IDisposable
{
    private readonly RSA _rsa = RSA.Create(2048);

    public JwtSigner(string keyId) => KeyId = keyId;

    public string KeyId { get; }

    public string Sign(JsonObject claims)
    {
        var header = new JsonObject { ["alg"] = "RS256", ["kid"] = KeyId, ["typ"] = "JWT" };
        var signingInput = Base64Url.Encode(Encoding.UTF8.GetBytes(header.ToJsonString())) + "." +
                           Base64Url.Encode(Encoding.UTF8.GetBytes(claims.ToJsonString()));
        var signature = _rsa.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return signingInput + "." + Base64Url.Encode(signature);
    }

    public JsonObject PublicJwk()
    {
        var p = _rsa.ExportParameters(includePrivateParameters: false);
        return new JsonObject
        {
            ["kty"] = "RSA",
            ["alg"] = "RS256",
            ["use"] = "sig",
            ["kid"] = KeyId,
            ["n"] = Base64Url.Encode(p.Modulus!),
            ["e"] = Base64Url.Encode(p.Exponent!),
        };
    }

    public string JwksJson() => new JsonObject { ["keys"] = new JsonArray(PublicJwk()) }.ToJsonString();

    public void Dispose() => _rsa.Dispose();
}
