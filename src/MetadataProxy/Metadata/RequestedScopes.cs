using System.Collections.Frozen;

namespace MetadataProxy.Metadata;

/// <summary>
/// TK-4, G-16: the <c>scopes</c> a caller asks a token for, read as Google reads them. The result is a set —
/// short names mapped to their URLs, duplicates dropped, ordinal order — so every spelling of one scope set
/// is one token-cache key and one Google call.
/// </summary>
internal static class RequestedScopes
{
    /// <summary>Scopes come from callers and become cache keys and Google calls: they are bounded.</summary>
    public const int MaxScopes = 20;

    public const int MaxScopeLength = 256;

    /// <summary>
    /// The short names Google's OAuth server accepts (its OpenID configuration lists them) and what each stands
    /// for; google-auth's own system test asks for <c>email</c> and <c>profile</c>. <c>openid</c> has no URL form.
    /// </summary>
    private static readonly FrozenDictionary<string, string> ShortNames = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["email"] = "https://www.googleapis.com/auth/userinfo.email",
        ["profile"] = "https://www.googleapis.com/auth/userinfo.profile",
        ["openid"] = "openid",
    }.ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>
    /// Parses the already URL-decoded value of <c>scopes</c>: comma-separated, blanks ignored. An empty
    /// <paramref name="scopes"/> means the caller asked for none (its account's own scopes apply).
    /// </summary>
    public static MetadataResult.Failure? TryParse(string? raw, out IReadOnlyList<string> scopes)
    {
        scopes = [];
        var requested = (raw ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (requested.Length > MaxScopes)
            return BadRequest($"Too many scopes: at most {MaxScopes} may be requested.");

        var normalised = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var scope in requested)
        {
            if (ShortNames.TryGetValue(scope, out var full))
                normalised.Add(full);
            else if (scope.Length <= MaxScopeLength && Uri.TryCreate(scope, UriKind.Absolute, out var uri) && uri.Scheme == Uri.UriSchemeHttps)
                normalised.Add(scope);
            else
                return BadRequest($"Invalid scope '{(scope.Length > 80 ? scope[..80] + "…" : scope)}': scopes are https URLs such as " +
                    "https://www.googleapis.com/auth/cloud-platform, or one of the short names email, profile, openid.");
        }

        scopes = [.. normalised];
        return null;
    }

    private static MetadataResult.Failure BadRequest(string message) => new(FailureReason.BadRequest, message);
}
