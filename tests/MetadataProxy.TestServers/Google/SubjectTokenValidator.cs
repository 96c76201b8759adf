using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using MetadataProxy.TestServers.Jwt;

namespace MetadataProxy.TestServers.Google;

/// <summary>
/// Checks an OIDC subject token the way STS does for a Workload Identity provider: RS256 with a kid from the
/// provider's JWKS, iss, aud, exp in the future, iat not in the future, a bounded lifetime, and google.subject
/// (the sub claim) within 127 bytes.
/// </summary>
internal sealed class SubjectTokenValidator(JwksFetcher fetcher, GoogleTestSettings settings)
{
    private static readonly TimeSpan IssuedAtSkew = TimeSpan.FromMinutes(1);
    private const int MaxSubjectBytes = 127;

    /// <returns>The sub claim once the signature checked out, and the rejection if any.</returns>
    public async Task<(string? Subject, StsRejection? Rejection)> ValidateAsync(
        WorkloadIdentityProvider provider, string subjectToken, CancellationToken ct)
    {
        var (jwks, fetchError) = await fetcher.ResolveAsync(provider.Jwks, provider.Issuer, ct);
        if (jwks is null)
        {
            return (null, StsRejection.InvalidGrant("Error connecting to the given credential's issuer.", fetchError));
        }

        if (!JwtVerifier.TryVerify(subjectToken, jwks, out var claims, out var error) || claims is null)
        {
            return (null, StsRejection.InvalidGrant($"Invalid ID Token: {error}."));
        }

        var sub = claims["sub"] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
        return (sub, CheckClaims(provider, claims));
    }

    private StsRejection? CheckClaims(WorkloadIdentityProvider provider, JsonObject claims)
    {
        var iss = claims["iss"] is JsonValue issValue && issValue.TryGetValue<string>(out var s) ? s : null;
        if (iss != provider.Issuer)
        {
            return StsRejection.InvalidGrant($"The issuer in ID Token {iss} does not match the expected ones: {provider.Issuer}.");
        }

        var audiences = Audiences(claims["aud"]);
        if (!audiences.Any(provider.AllowedAudiences.Contains))
        {
            return StsRejection.InvalidGrant(
                $"The audience in ID Token [{string.Join(", ", audiences)}] does not match the expected audience {string.Join(" or ", provider.AllowedAudiences)}.");
        }

        return CheckTimes(claims) ?? CheckSubject(claims);
    }

    private StsRejection? CheckTimes(JsonObject claims)
    {
        var now = settings.Time.GetUtcNow().ToUnixTimeSeconds();
        if (Seconds(claims["exp"]) is not { } exp)
        {
            return StsRejection.InvalidGrant("ID Token is missing the \"exp\" claim.");
        }

        if (Seconds(claims["iat"]) is not { } iat)
        {
            return StsRejection.InvalidGrant("ID Token is missing the \"iat\" claim.");
        }

        if (exp <= now)
        {
            return StsRejection.InvalidGrant($"ID Token expired at {Stamp(exp)}; the time is now {Stamp(now)}.");
        }

        if (iat > now + (long)IssuedAtSkew.TotalSeconds)
        {
            return StsRejection.InvalidGrant($"ID Token issued at {Stamp(iat)} is in the future; the time is now {Stamp(now)}.");
        }

        if (Seconds(claims["nbf"]) is { } nbf && nbf > now + (long)IssuedAtSkew.TotalSeconds)
        {
            return StsRejection.InvalidGrant($"ID Token is not valid before {Stamp(nbf)}; the time is now {Stamp(now)}.");
        }

        var max = (long)settings.MaxSubjectTokenLifetime.TotalSeconds;
        return exp - iat > max
            ? StsRejection.InvalidGrant($"ID Token lifetime (exp - iat) of {exp - iat}s exceeds the maximum of {max}s.")
            : null;
    }

    private static StsRejection? CheckSubject(JsonObject claims)
    {
        var sub = claims["sub"] is JsonValue subValue && subValue.TryGetValue<string>(out var s) ? s : null;
        if (string.IsNullOrEmpty(sub))
        {
            return StsRejection.InvalidGrant("The mapped attribute google.subject is empty: ID Token is missing the \"sub\" claim.");
        }

        return Encoding.UTF8.GetByteCount(sub) > MaxSubjectBytes
            ? StsRejection.InvalidGrant(
                $"The size of mapped attribute google.subject exceeds the {MaxSubjectBytes} bytes limit. Either modify your attribute mapping or the incoming assertion to produce a mapped attribute that is less than {MaxSubjectBytes} bytes.")
            : null;
    }

    private static List<string> Audiences(JsonNode? aud) => aud switch
    {
        JsonValue v when v.TryGetValue<string>(out var one) => [one],
        JsonArray many => many.OfType<JsonValue>().Select(v => v.TryGetValue<string>(out var a) ? a : null).OfType<string>().ToList(),
        _ => [],
    };

    private static long? Seconds(JsonNode? node) => node switch
    {
        JsonValue v when v.TryGetValue<long>(out var l) => l,
        JsonValue v when v.TryGetValue<double>(out var d) => (long)d,
        _ => null,
    };

    private static string Stamp(long unixSeconds) =>
        DateTimeOffset.FromUnixTimeSeconds(unixSeconds).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture) +
        $" ({unixSeconds})";
}
