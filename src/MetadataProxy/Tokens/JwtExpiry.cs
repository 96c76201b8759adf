using System.Buffers.Text;
using System.Text.Json;

namespace MetadataProxy.Tokens;

/// <summary>
/// Reads the <c>exp</c> claim of a compact JWS without verifying it (the issuer is Google, over TLS). Whatever the
/// token holds (a payload that is not an object, an <c>exp</c> that is not a whole number or lies beyond what a date
/// can hold) reads as no expiry, never as an exception.
/// </summary>
internal static class JwtExpiry
{
    private static readonly long MinSeconds = DateTimeOffset.MinValue.ToUnixTimeSeconds();
    private static readonly long MaxSeconds = DateTimeOffset.MaxValue.ToUnixTimeSeconds();

    public static DateTimeOffset? Read(string jwt)
    {
        var parts = jwt.Split('.');
        if (parts.Length != 3)
            return null;
        try
        {
            using var payload = JsonDocument.Parse(Base64Url.DecodeFromChars(parts[1]));
            return payload.RootElement.ValueKind == JsonValueKind.Object
                   && payload.RootElement.TryGetProperty("exp", out var exp)
                   && exp.ValueKind == JsonValueKind.Number
                   && exp.TryGetInt64(out var seconds)
                   && seconds >= MinSeconds && seconds <= MaxSeconds
                ? DateTimeOffset.FromUnixTimeSeconds(seconds)
                : null;
        }
        catch (Exception e) when (e is FormatException or JsonException)
        {
            return null;
        }
    }
}
