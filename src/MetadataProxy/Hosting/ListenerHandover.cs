namespace MetadataProxy.Hosting;

/// <summary>
/// The old server's half of a zero-gap upgrade (issue 10, point 4). On SIGTERM it closes its listening sockets first,
/// so that the kernel sends every new connection to the new server bound beside it (<see cref="ListenSockets"/>), and
/// only after <see cref="DrainDelay"/> lets Kestrel close its connections: a connection accepted just before the close,
/// whose first request is still on its way, is answered rather than closed unread. Requests in flight finish, idle
/// keep-alive connections are closed (clients open a new one, to the new server), and waiters were answered the moment
/// SIGTERM arrived (issue 9, row 5), all within <see cref="HostingExtensions.ShutdownTimeout"/>.
/// </summary>
internal sealed partial class ListenerHandover(ListenSockets sockets, TimeProvider time, ILogger<ListenerHandover> logger) : IHostedLifecycleService
{
    /// <summary>From closing the listening sockets to closing idle connections.</summary>
    public static readonly TimeSpan DrainDelay = TimeSpan.FromMilliseconds(500);

    private const string MigrateSetting = "/proc/sys/net/ipv4/tcp_migrate_req";

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken)
    {
        if (!OperatingSystem.IsLinux())
            return Task.CompletedTask;
        // Without it, connections in the accept backlog at the instant of the close are reset: few, as Kestrel accepts
        // at once, but not none under load. A node setting (README, Upgrades): the server cannot write /proc/sys.
        var migrate = File.Exists(MigrateSetting) ? File.ReadAllText(MigrateSetting).Trim() : null;
        if (migrate is null)
            Log.MigrateUnsupported(logger);
        else if (migrate == "0")
            Log.MigrateOff(logger);
        return Task.CompletedTask;
    }

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        var closed = sockets.CloseAll();
        Log.Closed(logger, closed, DrainDelay);
        try
        {
            await Task.Delay(DrainDelay, time, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // The host's shutdown timeout is up: Kestrel cuts what is left.
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Stopping: closed {Count} listening sockets (new connections go to a server bound beside this one, if any); connections close in {DrainDelay}")]
        public static partial void Closed(ILogger logger, int count, TimeSpan drainDelay);

        [LoggerMessage(Level = LogLevel.Warning, Message = "net.ipv4.tcp_migrate_req is 0 on this node: when this server stops during an upgrade, connections still queued in its accept backlog are reset instead of moving to the new server (README, Upgrades)")]
        public static partial void MigrateOff(ILogger logger);

        [LoggerMessage(Level = LogLevel.Warning, Message = "This kernel has no net.ipv4.tcp_migrate_req (Linux 5.14 or later): when this server stops during an upgrade, connections still queued in its accept backlog are reset instead of moving to the new server (README, Upgrades)")]
        public static partial void MigrateUnsupported(ILogger logger);
    }
}
