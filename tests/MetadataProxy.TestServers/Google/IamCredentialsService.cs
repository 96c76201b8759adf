using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace MetadataProxy.TestServers.Google;

/// <summary>
/// generateAccessToken / generateIdToken: a bearer this server issued, the IAM binding of every hop in the
/// delegation chain, then a token for the service account.
/// </summary>
internal sealed partial class IamCredentialsService(
    AccessTokenStore tokens,
    IamPolicy policy,
    GoogleIdTokenSigner idTokens,
    GoogleTestSettings settings)
{
    private const string GuideUrl = "See https://developers.google.com/identity/sign-in/web/devconsole-project.";
    private const string MissingCredential =
        "Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential. " + GuideUrl;
    private const string InvalidCredential =
        "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. " + GuideUrl;
    private const string InvalidArgument = "Request contains an invalid argument.";
    private static readonly string[] IamScopes = ["https://www.googleapis.com/auth/cloud-platform", "https://www.googleapis.com/auth/iam"];

    public IamOutcome Handle(IamMethod method, string email, string? authorization, string? userProject, string json)
    {
        if (method == IamMethod.Other)
        {
            return IamOutcome.Error(404, "Method not found.", null, null);
        }

        var now = settings.Time.GetUtcNow();
        var bearer = authorization is { } h && h.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? h["Bearer ".Length..].Trim() : null;
        if (string.IsNullOrEmpty(bearer))
        {
            return IamOutcome.Error(401, MissingCredential, null, null, "CREDENTIALS_MISSING");
        }

        if (tokens.Find(bearer) is not { } caller)
        {
            return IamOutcome.Error(401, InvalidCredential, null, null);
        }

        if (caller.ExpiresAt <= now)
        {
            return IamOutcome.Error(401, InvalidCredential, null, null, "ACCESS_TOKEN_EXPIRED");
        }

        if (caller.Scopes.Count > 0 && !caller.Scopes.Any(IamScopes.Contains))
        {
            return IamOutcome.Error(403, "Request had insufficient authentication scopes.", caller.Principal, null, "ACCESS_TOKEN_SCOPE_INSUFFICIENT");
        }

        var (request, parseError) = IamRequestBody.Parse(json, method);
        if (request is null)
        {
            return IamOutcome.Error(400, parseError!, caller.Principal, null);
        }

        var permission = method == IamMethod.GenerateIdToken ? "iam.serviceAccounts.getOpenIdToken" : "iam.serviceAccounts.getAccessToken";
        if (!ChainAllowed(caller.Principal, request.Delegates, email))
        {
            return IamOutcome.Error(403, $"Permission '{permission}' denied on resource (or it may not exist).", caller.Principal, request, "IAM_PERMISSION_DENIED", permission);
        }

        return method == IamMethod.GenerateIdToken
            ? IdToken(email, caller, request, now)
            : AccessToken(email, caller, request, userProject, now);
    }

    private IamOutcome AccessToken(string email, TokenInfo caller, IamRequestBody request, string? userProject, DateTimeOffset now)
    {
        if (request.Scopes.Count == 0)
        {
            return IamOutcome.Error(400, InvalidArgument, caller.Principal, request) with { Diagnostic = "\"scope\" is empty or missing" };
        }

        var requested = TimeSpan.FromHours(1);
        if (request.Lifetime is { } text)
        {
            var match = Duration().Match(text);
            if (!match.Success)
            {
                return IamOutcome.Error(400, $"Invalid value at 'lifetime' (type.googleapis.com/google.protobuf.Duration), Field 'lifetime', Illegal duration format; duration must end with 's'", caller.Principal, request);
            }

            requested = TimeSpan.FromSeconds(double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture));
        }

        if (requested <= TimeSpan.Zero || requested > settings.MaxImpersonationLifetime)
        {
            return IamOutcome.Error(400, $"The lifetime must be between 1s and {(long)settings.MaxImpersonationLifetime.TotalSeconds}s.", caller.Principal, request);
        }

        var expiry = now + (requested < settings.AccessTokenLifetime ? requested : settings.AccessTokenLifetime);
        var info = new TokenInfo(TokenKind.ServiceAccount, "serviceAccount:" + email, email, request.Scopes, now, expiry, userProject);
        var body = new JsonObject
        {
            ["accessToken"] = tokens.Issue(info),
            ["expireTime"] = expiry.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
        };
        return new IamOutcome(200, body.ToJsonString(GoogleJson.Options), caller.Principal, request, null);
    }

    private IamOutcome IdToken(string email, TokenInfo caller, IamRequestBody request, DateTimeOffset now)
    {
        if (string.IsNullOrEmpty(request.Audience))
        {
            return IamOutcome.Error(400, InvalidArgument, caller.Principal, request) with { Diagnostic = "\"audience\" is empty or missing" };
        }

        var token = idTokens.Mint(email, request.Audience, request.IncludeEmail ?? false, now);
        return new IamOutcome(200, new JsonObject { ["token"] = token }.ToJsonString(GoogleJson.Options), caller.Principal, request, null);
    }

    /// <summary>The caller may act as delegates[0], each delegate as the next, the last one as the target.</summary>
    private bool ChainAllowed(string caller, IReadOnlyList<string> delegates, string target)
    {
        var member = caller;
        foreach (var hop in delegates.Select(d => d[(d.LastIndexOf('/') + 1)..]).Append(target))
        {
            if (!policy.IsAllowed(member, hop))
            {
                return false;
            }

            member = "serviceAccount:" + hop;
        }

        return true;
    }

    [GeneratedRegex(@"^(\d+(?:\.\d{1,9})?)s$")]
    private static partial Regex Duration();
}
