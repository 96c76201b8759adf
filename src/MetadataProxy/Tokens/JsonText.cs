using System.Text.Json;

namespace MetadataProxy.Tokens;

/// <summary>
/// A string value of a Google answer read as text without throwing: JSON parses a lone surrogate escape
/// (<c>"\ud800"</c>), and only reading it as text throws. Shared by the IAM Credentials and STS answer checks.
/// </summary>
internal static class JsonText
{
    /// <summary>Why the value of <paramref name="name"/> is no text, or null when <paramref name="text"/> holds it.</summary>
    public static string? Problem(JsonElement value, string name, out string text)
    {
        text = "";
        if (value.ValueKind != JsonValueKind.String)
            return $"{name} is not a string";
        try
        {
            text = value.GetString()!;
        }
        catch (InvalidOperationException)
        {
            return $"{name} is not valid text (a lone surrogate escape)";
        }

        return null;
    }
}
