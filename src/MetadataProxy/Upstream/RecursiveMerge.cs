using System.Text;
using System.Text.Json.Nodes;

namespace MetadataProxy.Upstream;

/// <summary>
/// Merges the VM's recursive JSON under a directory into this server's own: only allow-listed subtrees of the VM's
/// are kept, concealed keys are dropped wherever they are, and this server's values override the VM's.
/// </summary>
internal static class RecursiveMerge
{
    public static JsonObject Merge(JsonObject upstream, JsonObject local, IReadOnlyList<string> at, UpstreamAllowList allow)
    {
        var merged = Filter(upstream, [.. at], allow);
        Overlay(merged, local);
        return merged;
    }

    /// <summary>GCE's recursive JSON spells fixed keys in camelCase; the allow-list speaks the path's kebab-case.</summary>
    public static string PathSegment(string jsonKey, IReadOnlyList<string> parent)
    {
        if (parent.Count > 0 && parent[^1] == "attributes")
            return jsonKey;
        var kebab = new StringBuilder();
        foreach (var c in jsonKey)
        {
            if (char.IsAsciiLetterUpper(c))
                kebab.Append('-').Append(char.ToLowerInvariant(c));
            else
                kebab.Append(c);
        }

        return kebab.ToString();
    }

    private static JsonObject Filter(JsonObject node, List<string> path, UpstreamAllowList allowed)
    {
        var kept = new JsonObject();
        foreach (var (key, value) in node)
        {
            var segment = PathSegment(key, path);
            if (UpstreamPolicy.IsConcealed(segment) || UpstreamPolicy.IsConcealed(key) || !UpstreamPolicy.IsPlainKey(segment))
                continue;
            List<string> child = [.. path, segment];
            if (allowed.Covers(child))
            {
                if (WithoutConcealed(value, child) is { } clean)
                    kept[key] = clean;
            }
            else if (value is JsonObject directory && allowed.LeadsTo(child)) // an entry below it: not covered, so not the child itself
            {
                var inner = Filter(directory, child, allowed);
                if (inner.Count > 0)
                    kept[key] = inner;
            }
        }

        return kept;
    }

    private static JsonNode? WithoutConcealed(JsonNode? value, List<string> path) => value switch
    {
        JsonObject directory => new JsonObject(directory
            .Where(p => !UpstreamPolicy.IsConcealed(PathSegment(p.Key, path)) && !UpstreamPolicy.IsConcealed(p.Key))
            .Select(p => KeyValuePair.Create(p.Key, WithoutConcealed(p.Value, [.. path, PathSegment(p.Key, path)])))),
        JsonArray array => new JsonArray(array.Select(item => WithoutConcealed(item, path)).ToArray()),
        _ => value?.DeepClone(),
    };

    private static void Overlay(JsonObject target, JsonObject local)
    {
        foreach (var (key, value) in local)
        {
            if (value is JsonObject localDirectory && target[key] is JsonObject upstreamDirectory)
                Overlay(upstreamDirectory, localDirectory);
            else
                target[key] = value?.DeepClone();
        }
    }
}
