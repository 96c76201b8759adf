namespace MetadataProxy.Upstream;

/// <summary>
/// <c>Upstream:Allow</c>, split into path segments once at start: which paths below <c>/computeMetadata/v1/</c> the
/// VM's metadata server may answer. Segments compare ordinally, as the policy sees only plain keys.
/// </summary>
internal sealed class UpstreamAllowList(IEnumerable<string> entries)
{
    private readonly string[][] _entries = [.. entries.Select(UpstreamPolicy.SegmentsOf)];

    /// <summary>The path is an entry or lies below one: it may be forwarded.</summary>
    public bool Covers(IReadOnlyList<string> path) => _entries.Any(entry => IsPrefix(entry, path));

    /// <summary>An entry is the path or lies below it: a listing of the path may show the VM's part of it.</summary>
    public bool LeadsTo(IReadOnlyList<string> path) => _entries.Any(entry => IsPrefix(path, entry));

    private static bool IsPrefix(IReadOnlyList<string> prefix, IReadOnlyList<string> path)
    {
        if (prefix.Count > path.Count)
            return false;
        for (var i = 0; i < prefix.Count; i++)
        {
            if (!string.Equals(prefix[i], path[i], StringComparison.Ordinal))
                return false;
        }

        return true;
    }
}
