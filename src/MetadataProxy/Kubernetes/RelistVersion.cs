using System.Net;
using k8s.Autorest;

namespace MetadataProxy.Kubernetes;

/// <summary>
/// The resourceVersion a relist asks for, as client-go's reflector chooses it (relistResourceVersion): "0" for the
/// very first list (any state, from the API server's watch cache); after that the last resourceVersion synced, which
/// a list reads as "not older than" (a lagging cache waits to catch up rather than answer an older state, so the
/// index never goes back in time); and, once a list at that version was refused as expired (410) or too large (504:
/// this API server's cache is behind it and did not catch up), none: the most recent state, a consistent read.
/// A 410 on a watch does not make the version unavailable (a list not older than it is still well defined).
/// </summary>
internal static class RelistVersion
{
    /// <summary>Null asks for the most recent state (no resourceVersion sent).</summary>
    public static string? Of(string? lastSynced, bool lastSyncedUnavailable) =>
        lastSyncedUnavailable ? null : lastSynced ?? "0";

    /// <summary>client-go: isExpiredError or isTooLargeResourceVersionError on the list.</summary>
    public static bool MakesUnavailable(Exception error) => ExpiredWatch.Is(error) || IsTooLarge(error);

    private static bool IsTooLarge(Exception? error) => error switch
    {
        null => false,
        HttpOperationException { Response: { Content: { } content } response } => response.StatusCode == HttpStatusCode.GatewayTimeout
            && (content.Contains("ResourceVersionTooLarge", StringComparison.Ordinal) || content.Contains("Too large resource version", StringComparison.Ordinal)),
        _ => IsTooLarge(error.InnerException),
    };
}
