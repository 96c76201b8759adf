using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace MetadataProxy.TestServers.Google;

/// <summary>RFC 8693 token exchange as Google STS does it for Workload Identity pool OIDC providers.</summary>
internal sealed partial class StsExchange(
    ConcurrentDictionary<string, WorkloadIdentityProvider> providers,
    SubjectTokenValidator validator,
    AccessTokenStore tokens,
    GoogleTestSettings settings)
{
    public const string TokenExchangeGrant = "urn:ietf:params:oauth:grant-type:token-exchange";
    public const string AccessTokenType = "urn:ietf:params:oauth:token-type:access_token";
    public const string JwtTokenType = "urn:ietf:params:oauth:token-type:jwt";
    public const string IdTokenType = "urn:ietf:params:oauth:token-type:id_token";

    // Google's own wording for a malformed and for an unknown provider audience.
    private const string MalformedAudience =
        "Invalid value for \"audience\". This value should be the full resource name of the Identity Provider. See https://cloud.google.com/iam/docs/reference/sts/rest/v1/TopLevel/token for the list of possible formats.";
    private const string UnknownAudience =
        "The target service indicated by the \"audience\" parameters is invalid. This might either be because the pool or provider is disabled or deleted or because it doesn't exist.";

    public async Task<StsOutcome> ExchangeAsync(IReadOnlyDictionary<string, string> form, CancellationToken ct)
    {
        string? Field(string name) => form.TryGetValue(name, out var v) && v.Length > 0 ? v : null;

        var (userProject, optionsRejection) = ParseOptions(Field("options"));
        var rejection = CheckRequest(Field) ?? optionsRejection;
        if (rejection is not null)
        {
            return new StsOutcome(null, null, rejection, null, userProject);
        }

        var audience = Field("audience");
        if (audience is null || !ProviderResourceName().IsMatch(audience))
        {
            return new StsOutcome(null, null, StsRejection.InvalidRequest(MalformedAudience), null, userProject);
        }

        if (!providers.TryGetValue(audience, out var provider))
        {
            return new StsOutcome(null, null, new StsRejection("invalid_target", UnknownAudience), null, userProject);
        }

        var (subject, invalid) = await validator.ValidateAsync(provider, Field("subject_token")!, ct);
        if (invalid is not null || subject is null)
        {
            return new StsOutcome(null, null, invalid ?? StsRejection.InvalidGrant("ID Token has no subject."), subject, userProject);
        }

        var now = settings.Time.GetUtcNow();
        var scopes = Field("scope")?.Split(' ', StringSplitOptions.RemoveEmptyEntries) ?? [];
        var info = new TokenInfo(TokenKind.Federated, provider.PrincipalFor(subject), null, scopes, now, now + settings.AccessTokenLifetime, userProject);
        return new StsOutcome(tokens.Issue(info), info, null, subject, userProject);
    }

    private static StsRejection? CheckRequest(Func<string, string?> field)
    {
        var grantType = field("grant_type");
        if (grantType is null)
        {
            return StsRejection.InvalidRequest("Missing required parameter: \"grant_type\".");
        }

        if (grantType != TokenExchangeGrant)
        {
            return new StsRejection("unsupported_grant_type", $"Invalid value for \"grant_type\": \"{grantType}\". Only {TokenExchangeGrant} is supported.");
        }

        if (field("requested_token_type") != AccessTokenType)
        {
            return StsRejection.InvalidRequest($"Invalid value for \"requested_token_type\": must be {AccessTokenType}.");
        }

        if (field("subject_token_type") is not (JwtTokenType or IdTokenType))
        {
            return StsRejection.InvalidRequest(
                $"Invalid value for \"subject_token_type\": an OIDC provider accepts {JwtTokenType} or {IdTokenType}.");
        }

        return field("subject_token") is null ? StsRejection.InvalidRequest("Missing required parameter: \"subject_token\".") : null;
    }

    private static (string? UserProject, StsRejection? Rejection) ParseOptions(string? options)
    {
        if (options is null)
        {
            return (null, null);
        }

        try
        {
            if (JsonNode.Parse(options) is JsonObject json)
            {
                return (json["userProject"] is JsonValue v && v.TryGetValue<string>(out var project) ? project : null, null);
            }
        }
        catch (JsonException)
        {
        }

        return (null, StsRejection.InvalidRequest("Invalid value for \"options\": it must be a serialized JSON object."));
    }

    [GeneratedRegex("^//iam\\.googleapis\\.com/projects/[^/]+/locations/global/workloadIdentityPools/[^/]+/providers/[^/]+$")]
    private static partial Regex ProviderResourceName();
}
