namespace MetadataProxy.Upstream;

/// <summary>
/// Merges the VM's plain directory listing (one entry a line, directories with a trailing slash) into this server's:
/// this server's entries first, as they are, then the VM's allowed and not concealed ones it does not have.
/// </summary>
internal static class ListingMerge
{
    public static string Merge(string upstream, string local, IReadOnlyList<string> at, UpstreamAllowList allow)
    {
        var own = local.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var names = new HashSet<string>(own.Select(e => e.TrimEnd('/')), StringComparer.Ordinal);
        var added = upstream.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(entry => names.Add(entry.TrimEnd('/')) && Shows(entry.TrimEnd('/'), at, allow));
        return string.Concat(own.Concat(added).Select(e => e + "\n"));
    }

    /// <summary>An entry is listed when reading it could be forwarded, or something below it could.</summary>
    private static bool Shows(string name, IReadOnlyList<string> at, UpstreamAllowList allow)
    {
        if (!UpstreamPolicy.IsPlainKey(name) || UpstreamPolicy.IsConcealed(name))
            return false;
        string[] path = [.. at, name];
        return allow.Covers(path) || allow.LeadsTo(path);
    }
}
