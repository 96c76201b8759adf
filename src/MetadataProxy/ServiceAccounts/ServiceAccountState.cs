namespace MetadataProxy.ServiceAccounts;

/// <summary>What is known of one ServiceAccount, and when it was read.</summary>
internal abstract record ServiceAccountState(DateTimeOffset ReadAt)
{
    /// <summary>It exists; <see cref="Annotations"/> is null when they cannot be honoured, with <see cref="Problem"/> saying why.</summary>
    public sealed record Found(string Uid, ServiceAccountAnnotations? Annotations, string? Problem, DateTimeOffset ReadAt) : ServiceAccountState(ReadAt);

    public sealed record Missing(DateTimeOffset ReadAt) : ServiceAccountState(ReadAt);

    /// <summary>It could not be read (the API server failed or was unreachable).</summary>
    public sealed record Unavailable(string Reason, DateTimeOffset ReadAt) : ServiceAccountState(ReadAt);
}
