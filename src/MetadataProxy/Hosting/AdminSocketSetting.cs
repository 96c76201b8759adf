using System.Collections;
using System.Text.Json;

namespace MetadataProxy.Hosting;

/// <summary>
/// <c>Listen:AdminSocket</c> for <c>MetadataProxy probe</c>, which runs before (and without) any host, read from the
/// same sources as the server reads it.
/// </summary>
internal static class AdminSocketSetting
{
    private const string Key = $"{ListenerOptions.Section}:{nameof(ListenerOptions.AdminSocket)}";

    /// <summary>
    /// <c>Listen:AdminSocket</c> from the server's own sources in the server's order: <c>appsettings.json</c> and
    /// <c>appsettings.{environment}.json</c> in <paramref name="contentRoot"/> (the working directory, the server's
    /// content root), then the environment (<c>Listen__AdminSocket</c>, config.env); null when none of them sets it.
    /// The one key is read by hand: the kubelet runs this every few seconds, and the configuration stack would cost
    /// it half as much CPU again (measured: about 70 ms of CPU before, 110 ms with it).
    /// </summary>
    public static string? Read(string contentRoot, IDictionary environment, out string? problem)
    {
        problem = null;
        var name = (environment["ASPNETCORE_ENVIRONMENT"] ?? environment["DOTNET_ENVIRONMENT"]) as string is { Length: > 0 } set ? set : Environments.Production;
        string? value = null;
        foreach (var file in new[] { "appsettings.json", $"appsettings.{name}.json" })
        {
            var path = Path.Combine(contentRoot, file);
            try
            {
                // Parsed only when it names the key at all (the image's own file does not): JSON costs the probe 20 ms of CPU.
                if (File.Exists(path) && File.ReadAllText(path) is var text && text.Contains(nameof(ListenerOptions.AdminSocket), StringComparison.OrdinalIgnoreCase))
                    value = FromJson(text) ?? value;
            }
            catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
            {
                problem = $"probe: {path} cannot be read: {e.Message}";
                return null;
            }
        }

        // As the environment configuration provider reads it: "__" is ":", keys ignore case.
        foreach (DictionaryEntry variable in environment)
        {
            if (string.Equals(((string)variable.Key).Replace("__", ":", StringComparison.Ordinal), Key, StringComparison.OrdinalIgnoreCase))
                value = variable.Value as string ?? "";
        }

        return value;
    }

    /// <summary>The key's value as the JSON configuration provider makes it (a scalar's text, null as empty), the last spelling winning.</summary>
    private static string? FromJson(string json)
    {
        // Plain loops, no LINQ over JsonElement: generic code over a struct is compiled at run time, on every probe.
        using var document = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        string? value = null;
        if (document.RootElement.ValueKind != JsonValueKind.Object)
            return null;
        foreach (var section in document.RootElement.EnumerateObject())
        {
            if (!string.Equals(section.Name, ListenerOptions.Section, StringComparison.OrdinalIgnoreCase) || section.Value.ValueKind != JsonValueKind.Object)
                continue;
            foreach (var setting in section.Value.EnumerateObject())
            {
                if (!string.Equals(setting.Name, nameof(ListenerOptions.AdminSocket), StringComparison.OrdinalIgnoreCase))
                    continue;
                value = setting.Value.ValueKind switch
                {
                    JsonValueKind.Object or JsonValueKind.Array => value,
                    JsonValueKind.Null => "",
                    JsonValueKind.String => setting.Value.GetString(),
                    _ => setting.Value.GetRawText(),
                };
            }
        }

        return value;
    }
}
