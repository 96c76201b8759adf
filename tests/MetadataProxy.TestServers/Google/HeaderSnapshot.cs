namespace MetadataProxy.TestServers.Google;

internal static class HeaderSnapshot
{
    /// <summary>Headers with lower-case names, multi-valued ones joined with ", ".</summary>
    public static IReadOnlyDictionary<string, string> Of(HttpRequest request) =>
        request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
}
