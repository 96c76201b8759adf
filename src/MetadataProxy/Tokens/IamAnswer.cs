using System.Globalization;
using System.Text.Json;

namespace MetadataProxy.Tokens;

/// <summary>
/// IAM Credentials' answers, read so that no body that parsed as JSON can throw: a field that is missing, of another
/// type, empty, or a string JSON cannot turn into text (a lone surrogate escape such as <c>"\ud800"</c>) is a refusal
/// that names the field. Like a body that is not JSON, it is Google's fault and retryable (503 with Retry-After to a
/// metadata client, <c>google_unavailable</c> for a pull Secret), never an exception for the caller to meet.
/// </summary>
internal static class IamAnswer
{
    public static TokenOutcome AccessToken(JsonElement root)
    {
        if (Problem(root, "accessToken", out var token) is { } tokenProblem)
            return Unreadable("generateAccessToken", tokenProblem);
        if (!BearerText.IsSendable(token))
            return Unreadable("generateAccessToken", "accessToken has characters outside visible ASCII");
        if (Problem(root, "expireTime", out var expireTime) is { } expiryProblem)
            return Unreadable("generateAccessToken", expiryProblem);
        return DateTimeOffset.TryParse(expireTime, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var expiresAt)
            ? new TokenOutcome.AccessToken(token, expiresAt)
            : Unreadable("generateAccessToken", "expireTime is not a timestamp");
    }

    public static TokenOutcome IdToken(JsonElement root)
    {
        if (Problem(root, "token", out var jwt) is { } problem)
            return Unreadable("generateIdToken", problem);
        return JwtExpiry.Read(jwt) is { } expiresAt
            ? new TokenOutcome.IdToken(jwt, expiresAt)
            : Unreadable("generateIdToken", "token is not a JWT with an exp claim");
    }

    /// <summary>A string field's text, or null when it has none that can be read (an error envelope's parts are optional).</summary>
    public static string? Text(JsonElement element, string name) => Problem(element, name, out var text) is null ? text : null;

    /// <summary>Why <paramref name="name"/> gives no usable text, or null when <paramref name="text"/> holds it.</summary>
    private static string? Problem(JsonElement element, string name, out string text)
    {
        text = "";
        if (element.ValueKind != JsonValueKind.Object)
            return "the answer is not a JSON object";
        if (!element.TryGetProperty(name, out var value))
            return $"{name} is missing";
        if (JsonText.Problem(value, name, out text) is { } problem)
            return problem;
        return text.Length == 0 ? $"{name} is empty" : null;
    }

    private static TokenOutcome.Refused Unreadable(string method, string problem) =>
        new(TokenRefusal.UpstreamUnavailable, $"IAM Credentials answered {method} with an unreadable answer: {problem}; retry shortly.");
}
