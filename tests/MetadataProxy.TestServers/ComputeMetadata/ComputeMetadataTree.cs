using System.Text;
using System.Text.Json;

namespace MetadataProxy.TestServers.ComputeMetadata;

/// <summary>The VM's values as flat <c>dir/dir/key</c> paths; directories are the prefixes. Changes wake waiters.</summary>
internal sealed class ComputeMetadataTree
{
    private readonly Lock _gate = new();
    private readonly SortedDictionary<string, string> _values = new(StringComparer.Ordinal);
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task NextChange
    {
        get
        {
            lock (_gate)
                return _changed.Task;
        }
    }

    public void Set(string path, string? value)
    {
        TaskCompletionSource changed;
        lock (_gate)
        {
            if (value is null)
                _values.Remove(path);
            else
                _values[path] = value;
            changed = _changed;
            _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        changed.TrySetResult();
    }

    /// <summary>The answer GCE gives at <paramref name="path"/> (below v1/): status, content type and body.</summary>
    public (int Status, string ContentType, string Body) Render(string path, bool trailingSlash, bool recursive, string? alt)
    {
        lock (_gate)
        {
            if (_values.TryGetValue(path, out var value))
            {
                if (trailingSlash)
                    return NotFound();
                return alt == "json" ? (200, "application/json", JsonSerializer.Serialize(value)) : (200, "application/text", value);
            }

            var prefix = path.Length == 0 ? "" : path + "/";
            var below = _values.Where(v => v.Key.StartsWith(prefix, StringComparison.Ordinal)).ToList();
            if (below.Count == 0)
                return NotFound();
            if (!trailingSlash)
                return (301, "text/html", "/computeMetadata/v1/" + prefix);
            if (recursive)
                return (200, "application/json", RecursiveJson(below.Select(v => (v.Key[prefix.Length..], v.Value)), freeKeys: path.EndsWith("attributes", StringComparison.Ordinal)));
            var children = below.Select(v => v.Key[prefix.Length..]).Select(rest => rest.Contains('/', StringComparison.Ordinal) ? rest[..(rest.IndexOf('/', StringComparison.Ordinal) + 1)] : rest).Distinct();
            return (200, "application/text", string.Concat(children.Select(c => c + "\n")));
        }
    }

    private static (int, string, string) NotFound() => (404, "text/html; charset=UTF-8", "<html><body>404 Not Found</body></html>");

    private static string RecursiveJson(IEnumerable<(string Path, string Value)> leaves, bool freeKeys)
    {
        var root = new Dictionary<string, object>(StringComparer.Ordinal);
        foreach (var (path, value) in leaves)
        {
            var parts = path.Split('/');
            var node = root;
            foreach (var part in parts[..^1])
            {
                if (!node.TryGetValue(part, out var child))
                    node[part] = child = new Dictionary<string, object>(StringComparer.Ordinal);
                node = (Dictionary<string, object>)child;
            }

            node[parts[^1]] = value;
        }

        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
            Write(writer, root, freeKeys);
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>Fixed keys in camelCase, attribute keys (the users') verbatim, as GCE renders them.</summary>
    private static void Write(Utf8JsonWriter writer, Dictionary<string, object> node, bool freeKeys)
    {
        writer.WriteStartObject();
        foreach (var (key, child) in node.OrderBy(c => c.Key, StringComparer.Ordinal))
        {
            writer.WritePropertyName(freeKeys ? key : CamelCase(key));
            if (child is Dictionary<string, object> directory)
                Write(writer, directory, freeKeys: key == "attributes");
            else
                writer.WriteStringValue((string)child);
        }

        writer.WriteEndObject();
    }

    private static string CamelCase(string kebab)
    {
        var parts = kebab.Split('-');
        return parts[0] + string.Concat(parts.Skip(1).Where(p => p.Length > 0).Select(p => char.ToUpperInvariant(p[0]) + p[1..]));
    }
}
