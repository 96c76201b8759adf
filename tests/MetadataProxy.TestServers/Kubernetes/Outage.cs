namespace MetadataProxy.TestServers.Kubernetes;

/// <summary>When the server plays dead: until a point in its own time, or until told to come up.</summary>
internal sealed class Outage(ServerSettings settings)
{
    private const long Up = 0;
    private long _downUntilTicks = Up;

    public bool IsDown
    {
        get
        {
            var until = Interlocked.Read(ref _downUntilTicks);
            return until != Up && settings.Time.GetUtcNow().UtcTicks < until;
        }
    }

    public void GoDown(TimeSpan? duration) => Interlocked.Exchange(
        ref _downUntilTicks,
        duration is { } d ? settings.Time.GetUtcNow().Add(d).UtcTicks : DateTimeOffset.MaxValue.UtcTicks);

    public void ComeUp() => Interlocked.Exchange(ref _downUntilTicks, Up);
}
