namespace MetadataProxy.TestServers.Google;

/// <summary>The knobs a test may turn while the server runs; read on every request.</summary>
internal sealed class GoogleTestSettings
{
    public TimeProvider Time { get; set; } = TimeProvider.System;

    public TimeSpan AccessTokenLifetime { get; set; } = TimeSpan.FromHours(1);

    public TimeSpan MaxSubjectTokenLifetime { get; set; } = TimeSpan.FromHours(48);

    public TimeSpan MaxImpersonationLifetime { get; set; } = TimeSpan.FromHours(1);
}
