using System.Buffers.Text;
using System.Text.Json;

namespace MetadataProxy.Tokens;

/// <summary>Reads the <c>exp</c> claim of a compact JWS without verifying it (the issuer is Google, over TLS).</summary>
internal static class JwtExpiry
{
    public static DateTimeOffset? Read(string jwt)
    {
        var parts = jwt.Split('.');
        if (parts.Length != 3)
            return null;
        try
        {
            using var payload = JsonDocument.Parse(Base64Url.DecodeFromChars(parts[1]));
            return payload.RootElement.TryGetProperty("exp", out var exp) && exp.TryGetInt64(out var seconds)
                ? DateTimeOffset.FromUnixTimeSeconds(seconds)
                : null;
        }
        catch (Exception e) when (e is FormatException or JsonException)
        {
            return null;
        }
    }
}
