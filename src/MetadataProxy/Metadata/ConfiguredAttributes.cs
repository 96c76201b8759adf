namespace MetadataProxy.Metadata;

/// <summary>
/// Reads an attribute map from configuration keeping the order in which keys were set (GCE lists attributes that
/// way). Configuration providers hand a section's keys over sorted, so order lives in a list:
/// <c>ProjectAttributes:0:Key</c> / <c>ProjectAttributes:0:Value</c>, … (JSON: an array of <c>{"Key","Value"}</c>),
/// served in index order. The map form <c>ProjectAttributes:&lt;key&gt;=&lt;value&gt;</c> stays accepted; its keys
/// come after the list's, in the order configuration gives them. A key set again keeps its place and takes the new
/// value, as on GCE.
/// </summary>
internal static class ConfiguredAttributes
{
    public static OrderedDictionary<string, string> Read(IConfigurationSection section)
    {
        var attributes = new OrderedDictionary<string, string>(StringComparer.Ordinal);
        var entries = section.GetChildren().ToList();

        // Integer keys (list entries) sort first and numerically in configuration's own key order; named keys follow.
        foreach (var entry in entries.Where(e => e.Value is null && e.GetChildren().Any()))
            attributes[entry["Key"] ?? ""] = entry["Value"] ?? "";
        foreach (var entry in entries.Where(e => e.Value is not null))
            attributes[entry.Key] = entry.Value!;
        return attributes;
    }
}
