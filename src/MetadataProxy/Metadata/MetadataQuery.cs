using System.Globalization;

namespace MetadataProxy.Metadata;

/// <summary>The query parameters every metadata path understands. Unknown parameters are ignored (G-15).</summary>
internal sealed record MetadataQuery(
    bool Recursive,
    MetadataFormat? Alt,
    bool WaitForChange,
    string? LastETag,
    TimeSpan? Timeout,
    IQueryCollection Raw)
{
    public static MetadataResult.Failure? TryParse(IQueryCollection query, out MetadataQuery parsed)
    {
        parsed = new MetadataQuery(IsTrue(query["recursive"]), null, IsTrue(query["wait_for_change"]), null, null, query);

        var alt = (string?)query["alt"];
        if (alt is not null)
        {
            if (string.Equals(alt, "json", StringComparison.OrdinalIgnoreCase))
                parsed = parsed with { Alt = MetadataFormat.Json };
            else if (string.Equals(alt, "text", StringComparison.OrdinalIgnoreCase))
                parsed = parsed with { Alt = MetadataFormat.Text };
            else
                return BadRequest($"Invalid alt value '{alt}': use alt=json or alt=text.");
        }

        var lastETag = (string?)query["last_etag"];
        if (!string.IsNullOrEmpty(lastETag))
            parsed = parsed with { LastETag = lastETag };

        var timeout = (string?)query["timeout_sec"];
        if (timeout is not null)
        {
            // W-6: the documented type is a non-negative integer number of seconds.
            if (!int.TryParse(timeout, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
                return BadRequest($"Invalid timeout_sec value '{timeout}': expected a whole number of seconds.");
            parsed = parsed with { Timeout = TimeSpan.FromSeconds(seconds) };
        }

        return null;
    }

    /// <summary>G-17: "true" in any case is true; every other value is false.</summary>
    public static bool IsTrue(string? value) => string.Equals(value, "true", StringComparison.OrdinalIgnoreCase);

    private static MetadataResult.Failure BadRequest(string message) => new(FailureReason.BadRequest, message);
}
