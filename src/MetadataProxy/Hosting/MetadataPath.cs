namespace MetadataProxy.Hosting;

/// <summary>
/// A request path after normalisation: empty segments and <c>.</c> dropped, <c>..</c> applied (G-18), so that
/// access decisions see the path the tree will serve (<c>attributes/../attributes/kube-env</c> is <c>kube-env</c>).
/// </summary>
internal sealed record MetadataPath(IReadOnlyList<string> Segments, bool TrailingSlash)
{
    public static bool TryParse(string? path, out MetadataPath parsed, out string? error)
    {
        parsed = new MetadataPath([], TrailingSlash: true);
        if (string.IsNullOrEmpty(path) || path[0] != '/')
        {
            error = "The request path must start with '/'.";
            return false;
        }

        var segments = new List<string>();
        var raw = path.Split('/');
        foreach (var segment in raw)
        {
            if (segment is "" or ".")
                continue;
            if (segment == "..")
            {
                if (segments.Count == 0)
                {
                    error = "The request path climbs above the root.";
                    return false;
                }

                segments.RemoveAt(segments.Count - 1);
                continue;
            }

            if (segment.Any(char.IsControl))
            {
                error = "The request path contains control characters.";
                return false;
            }

            segments.Add(segment);
        }

        var last = raw[^1];
        parsed = new MetadataPath(segments, TrailingSlash: segments.Count == 0 || last is "" or "." or "..");
        error = null;
        return true;
    }

    public bool StartsWith(params string[] prefix) =>
        Segments.Count >= prefix.Length && prefix.Select((p, i) => Segments[i] == p).All(match => match);
}
