using System.Globalization;
using System.Numerics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using MetadataProxy.TestServers.Jwt;

namespace MetadataProxy.TestServers.Google;

/// <summary>Mints Google-signed ID tokens the way IAM Credentials generateIdToken does.</summary>
internal sealed class GoogleIdTokenSigner : IDisposable
{
    public const string Issuer = "https://accounts.google.com";

    private static readonly TimeSpan Lifetime = TimeSpan.FromHours(1);

    private readonly JwtSigner _signer = new(Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(20)));

    public string JwksJson => _signer.JwksJson();

    /// <summary>A stable 21-digit "unique ID" per service account, like Google's numeric <c>sub</c>.</summary>
    public static string UniqueIdFor(string serviceAccountEmail)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(serviceAccountEmail.ToLowerInvariant()));
        var n = new BigInteger(hash.AsSpan(0, 12), isUnsigned: true) % BigInteger.Pow(10, 20);
        return "1" + n.ToString(CultureInfo.InvariantCulture).PadLeft(20, '0');
    }

    public string Mint(string serviceAccountEmail, string audience, bool includeEmail, DateTimeOffset now)
    {
        var id = UniqueIdFor(serviceAccountEmail);
        var iat = now.ToUnixTimeSeconds();
        var claims = new JsonObject
        {
            ["aud"] = audience,
            ["azp"] = id,
        };
        if (includeEmail)
        {
            claims["email"] = serviceAccountEmail;
            claims["email_verified"] = true;
        }

        claims["exp"] = iat + (long)Lifetime.TotalSeconds;
        claims["iat"] = iat;
        claims["iss"] = Issuer;
        claims["sub"] = id;
        return _signer.Sign(claims);
    }

    public void Dispose() => _signer.Dispose();
}
