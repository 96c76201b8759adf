namespace MetadataProxy.Tokens;

/// <summary>Decision 4 in numbers: when to refresh, how long to keep serving, how long to wait after a failure.</summary>
internal sealed class TokenCachePolicy(Func<double> random)
{
    /// <summary>TK-3: nothing with less left is handed out.</summary>
    public static readonly TimeSpan MinimumServeTime = TimeSpan.FromMinutes(5);

    /// <summary>After a failed refresh, the next attempt waits this long (jittered), so a failing Google is not hammered.</summary>
    public static readonly TimeSpan RetryAfterFailure = TimeSpan.FromSeconds(10);

    /// <summary>Refresh when less than max(5 min, 20 % of the lifetime) remains, less a jitter of up to 5 % of the lifetime.</summary>
    public DateTimeOffset RefreshAt(CachedToken token)
    {
        var margin = TimeSpan.FromTicks(Math.Max(MinimumServeTime.Ticks, token.Lifetime.Ticks / 5));
        var jitter = TimeSpan.FromTicks((long)(token.Lifetime.Ticks * 0.05 * random()));
        return token.ExpiresAt - margin - jitter;
    }

    /// <summary>
    /// How long "Google unavailable" is answered again for a key without a token: at most this (the Retry-After clients
    /// get), so a client's next try, and the first request after Google is back, goes to Google (issue 9, row 9).
    /// </summary>
    public TimeSpan UnavailableMemory { get; init; } = TimeSpan.FromSeconds(1);

    public DateTimeOffset RetryAt(DateTimeOffset now) => now + RetryAfterFailure * (0.5 + random());

    /// <summary>Between half and all of <see cref="UnavailableMemory"/>, jittered so that keys do not retry in step.</summary>
    public DateTimeOffset RetryUnavailableAt(DateTimeOffset now) => now + UnavailableMemory * (0.5 + 0.5 * random());

    public static bool IsServable(CachedToken token, DateTimeOffset now) => token.ExpiresAt - now >= MinimumServeTime;
}
