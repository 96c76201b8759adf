using System.Globalization;

namespace MetadataProxy.TestServers.Kubernetes;

/// <summary>The parameters of a watch: from which resourceVersion (null or 0: from now, with synthetic ADDED for
/// what exists), with bookmarks or not, for how long. What it watches is the matcher of its <see cref="ObjectWatch{T}"/>.</summary>
internal sealed record WatchRequest(long? From, bool AllowBookmarks, TimeSpan? Timeout)
{
    public static WatchRequest Of(IQueryCollection query, long? from)
    {
        int? timeoutSeconds = int.TryParse(query["timeoutSeconds"], NumberStyles.None, CultureInfo.InvariantCulture, out var s) && s > 0 ? s : null;
        return new WatchRequest(from, IsTrue(query["allowWatchBookmarks"]), timeoutSeconds is { } seconds ? TimeSpan.FromSeconds(seconds) : null);
    }

    /// <summary>
    /// The parameters of a list-or-watch GET: <c>Valid</c> false once a bad resourceVersion has been answered 400;
    /// <c>Watch</c> set for <c>watch=true</c>.
    /// </summary>
    public static async Task<(bool Valid, WatchRequest? Watch)> ReadAsync(HttpContext context)
    {
        var query = context.Request.Query;
        string? resourceVersion = query["resourceVersion"];
        if (!TryParseResourceVersion(resourceVersion, out var from))
        {
            await KubeResults.WriteStatusAsync(context, KubeStatus.BadRequest($"invalid resource version: {resourceVersion}"));
            return (false, null);
        }

        return (true, IsTrue(query["watch"]) ? Of(query, from) : null);
    }

    /// <summary>Query booleans as Go's strconv.ParseBool reads them.</summary>
    public static bool IsTrue(string? value) => value is "1" or "t" or "T" or "true" or "TRUE" or "True";

    /// <summary>The <c>resourceVersion</c> parameter: absent, or a number; anything else is the API server's 400.</summary>
    public static bool TryParseResourceVersion(string? value, out long? from)
    {
        from = null;
        if (string.IsNullOrEmpty(value))
            return true;
        if (!KubeObjects.TryParse(value, out var parsed))
            return false;
        from = parsed;
        return true;
    }
}
