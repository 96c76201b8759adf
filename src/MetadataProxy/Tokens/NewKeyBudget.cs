namespace MetadataProxy.Tokens;

/// <summary>
/// How many new cache keys (a scope set or an ID-token audience never asked for before) each Kubernetes service
/// account may open: a bucket of <paramref name="burst"/>, refilled at <paramref name="perMinute"/>. Every new key
/// costs Google an exchange, so a pod that invents scopes or audiences is refused (429) before it costs anyone else.
/// </summary>
internal sealed class NewKeyBudget(int burst, int perMinute, TimeProvider time)
{
    /// <summary>Buckets kept before full ones are dropped (a full bucket is the same as none).</summary>
    private const int TidyAbove = 1_000;

    private readonly Lock _lock = new();
    private readonly Dictionary<string, Bucket> _buckets = new(StringComparer.Ordinal);

    /// <summary>Takes one new key for <paramref name="account"/>, or says how long until one is available.</summary>
    public bool TryTake(string account, out TimeSpan retryAfter)
    {
        var now = time.GetUtcNow();
        lock (_lock)
        {
            if (_buckets.Count > TidyAbove)
                Tidy(now);
            var bucket = _buckets.TryGetValue(account, out var known) ? Refill(known, now) : new Bucket(burst, now);
            if (bucket.Tokens >= 1)
            {
                _buckets[account] = bucket with { Tokens = bucket.Tokens - 1 };
                retryAfter = TimeSpan.Zero;
                return true;
            }

            _buckets[account] = bucket;
            retryAfter = perMinute > 0 ? TimeSpan.FromMinutes((1 - bucket.Tokens) / perMinute) : TimeSpan.FromMinutes(1);
            return false;
        }
    }

    private Bucket Refill(Bucket bucket, DateTimeOffset now) =>
        new(Math.Min(burst, bucket.Tokens + (now - bucket.At).TotalMinutes * perMinute), now);

    private void Tidy(DateTimeOffset now)
    {
        foreach (var (account, bucket) in _buckets.ToList())
        {
            if (Refill(bucket, now).Tokens >= burst)
                _buckets.Remove(account);
        }
    }

    private readonly record struct Bucket(double Tokens, DateTimeOffset At);
}
