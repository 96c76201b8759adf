namespace MetadataProxy.TestServers.Kubernetes;

/// <summary>What tests may change while the server runs; read on every use.</summary>
internal sealed class ServerSettings
{
    public required string BearerToken { get; init; }

    public Uri BaseAddress { get; set; } = new("http://127.0.0.1/");

    public string Issuer => BaseAddress.AbsoluteUri.TrimEnd('/');

    public TimeProvider Time { get; set; } = TimeProvider.System;

    public TimeSpan BookmarkInterval { get; set; } = TimeSpan.FromSeconds(1);

    public TimeSpan? MaxTokenExpiration { get; set; }

    public bool DenyTokenReviews { get; set; }

    public Stall WatchStall { get; } = new();

    public WatchAnswers WatchAnswers { get; } = new();

    /// <summary>While on, Event creation hangs before it is recorded: an API server slow to write Events.</summary>
    public Stall EventStall { get; } = new();

    /// <summary>Set while the server throttles: every API request answers 429 with this Retry-After (seconds).</summary>
    public int? ThrottleRetryAfterSeconds { get; set; }
}
