using System.Text.Json;
using System.Text.Json.Nodes;

namespace MetadataProxy.TestServers.Google;

/// <summary>
/// The JSON body of generateAccessToken / generateIdToken, read strictly like Google's proto-JSON front end:
/// unknown field names and wrong types are refused.
/// </summary>
internal sealed record IamRequestBody(
    IReadOnlyList<string> Delegates,
    IReadOnlyList<string> Scopes,
    string? Lifetime,
    string? Audience,
    bool? IncludeEmail)
{
    private static readonly string[] AccessTokenFields = ["delegates", "scope", "lifetime"];
    private static readonly string[] IdTokenFields = ["delegates", "audience", "includeEmail", "organizationNumberIncluded"];

    public static (IamRequestBody? Body, string? Error) Parse(string json, IamMethod method)
    {
        JsonObject? root;
        try
        {
            root = JsonNode.Parse(json.Length == 0 ? "{}" : json) as JsonObject;
        }
        catch (JsonException e)
        {
            return (null, $"Invalid JSON payload received. {e.Message}");
        }

        if (root is null)
        {
            return (null, "Invalid JSON payload received. Expected a JSON object.");
        }

        var known = method == IamMethod.GenerateIdToken ? IdTokenFields : AccessTokenFields;
        if (root.Select(p => p.Key).FirstOrDefault(name => !known.Contains(name)) is { } unknown)
        {
            return (null, $"Invalid JSON payload received. Unknown name \"{unknown}\": Cannot find field.");
        }

        var (delegates, delegatesError) = Strings(root, "delegates");
        var (scopes, scopesError) = Strings(root, "scope");
        var (lifetime, lifetimeError) = Text(root, "lifetime");
        var (audience, audienceError) = Text(root, "audience");
        var (includeEmail, includeEmailError) = Flag(root, "includeEmail");
        var error = delegatesError ?? scopesError ?? lifetimeError ?? audienceError ?? includeEmailError;
        return error is not null
            ? (null, error)
            : (new IamRequestBody(delegates, scopes, lifetime, audience, includeEmail), null);
    }

    private static (IReadOnlyList<string> Values, string? Error) Strings(JsonObject root, string name)
    {
        switch (root[name])
        {
            case null:
                return ([], null);
            case JsonArray array when array.All(e => e is JsonValue v && v.TryGetValue<string>(out _)):
                return (array.Select(e => e!.GetValue<string>()).ToList(), null);
            default:
                return ([], $"Invalid JSON payload received. Invalid value at '{name}': expected an array of strings.");
        }
    }

    private static (string? Value, string? Error) Text(JsonObject root, string name) => root[name] switch
    {
        null => (null, null),
        JsonValue v when v.TryGetValue<string>(out var value) => (value, null),
        _ => (null, $"Invalid JSON payload received. Invalid value at '{name}' (TYPE_STRING)."),
    };

    private static (bool? Value, string? Error) Flag(JsonObject root, string name) => root[name] switch
    {
        null => (null, null),
        JsonValue v when v.TryGetValue<bool>(out var value) => (value, null),
        _ => (null, $"Invalid JSON payload received. Invalid value at '{name}' (TYPE_BOOL)."),
    };
}
