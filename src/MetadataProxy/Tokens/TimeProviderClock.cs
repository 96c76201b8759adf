namespace MetadataProxy.Tokens;

/// <summary>
/// Google.Apis.Auth's clock on the injected <see cref="TimeProvider"/>: a token's <c>IssuedUtc</c>, and so the expiry
/// the server computes from it, is on the same clock as everything that refreshes by it.
/// </summary>
internal sealed class TimeProviderClock(TimeProvider time) : Google.Apis.Util.IClock
{
    public DateTime Now => time.GetLocalNow().DateTime;

    public DateTime UtcNow => time.GetUtcNow().UtcDateTime;
}
