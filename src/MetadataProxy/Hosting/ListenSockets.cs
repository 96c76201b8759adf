using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using MetadataProxy.Operations;
using Microsoft.Extensions.Options;

namespace MetadataProxy.Hosting;

/// <summary>
/// Kestrel's TCP listening sockets, bound with SO_REUSEPORT (issue 10, point 4): during an upgrade the new server binds
/// the same metadata and admin addresses while the old one still listens, and the kernel spreads new connections over
/// both; once the old one closes its sockets (<see cref="ListenerHandover"/>) new connections go to the new one alone,
/// so no pod meets "connection refused". Linux lets only sockets of the same user share a port (the server's UID,
/// 1654): no other user's process can take a share of the traffic. Connections still queued in a closing socket's
/// accept backlog move to the new one where the node has <c>net.ipv4.tcp_migrate_req=1</c> (Linux 5.14 or later).
/// </summary>
internal sealed partial class ListenSockets(
    IOptions<ListenerOptions> options,
    IEnumerable<ServingPrecondition> preconditions,
    IHostApplicationLifetime lifetime,
    TimeProvider time,
    ILogger<ListenSockets> logger)
{
    private static readonly TimeSpan PreconditionPoll = TimeSpan.FromMilliseconds(50);

    // <sys/socket.h> on Linux (both architectures the image is built for).
    private const int SolSocket = 1;
    private const int SoReusePort = 15;

    private readonly Lock _lock = new();
    private readonly List<Socket> _sockets = [];

    /// <summary>For <see cref="SocketTransportOptions.CreateBoundListenSocket"/>.</summary>
    public Socket Create(EndPoint endpoint)
    {
        if (endpoint is UnixDomainSocketEndPoint unix && OperatingSystem.IsLinux())
            return CreateUnix(unix);
        if (endpoint is not IPEndPoint ip || !OperatingSystem.IsLinux())
            return SocketTransportOptions.CreateDefaultBoundListenSocket(endpoint);
        if (IsMetadata(ip))
            WaitForPreconditions(ip);
        StartupPhase.Reached(logger, $"binding {ip}");

        var socket = new Socket(ip.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            // As Kestrel's own default: [::] takes IPv4 too.
            if (ip.Address.Equals(IPAddress.IPv6Any))
                socket.DualMode = true;
            socket.SetRawSocketOption(SolSocket, SoReusePort, BitConverter.GetBytes(1));
            socket.Bind(ip);
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw new IOException($"Failed to bind to address {ip}: {ListenFailure.Reason(e)}", e); // the address, as Kestrel's own bind failure says it
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        lock (_lock)
            _sockets.Add(socket);
        return socket;
    }

    private bool IsMetadata(IPEndPoint endpoint) =>
        ListenAddress.TryParse(options.Value.Metadata, out var metadata, out _) && metadata.Contains(endpoint);

    /// <summary>
    /// Kestrel binds the admin endpoints first (HostingExtensions), so probes are answered while this waits; SIGTERM ends
    /// the wait, and with it the start.
    /// </summary>
    private void WaitForPreconditions(IPEndPoint endpoint)
    {
        var logged = false;
        while (preconditions.FirstOrDefault(p => !p.IsMet()) is { } unmet)
        {
            if (!logged)
                Log.Waiting(logger, endpoint, unmet.Description);
            logged = true;
            var poll = Task.Delay(PreconditionPoll, time, lifetime.ApplicationStopping);
            (unmet.WhenMet?.Invoke() is { } met ? Task.WhenAny(poll, met).Unwrap() : poll).GetAwaiter().GetResult();
        }
    }

    /// <summary>
    /// A Unix socket has no SO_REUSEPORT: it is bound under a temporary name beside the path and renamed over it, so that
    /// a running server's socket (the one an upgrade replaces) is swapped for this one in one step, and connections made
    /// from then on reach this server. .NET deletes the name a socket was bound to when it is disposed: that is the
    /// temporary name, gone already, so a stopping server never deletes its successor's socket.
    /// </summary>
    private static Socket CreateUnix(UnixDomainSocketEndPoint endpoint)
    {
        var path = endpoint.ToString();
        var temporary = Path.Combine(Path.GetDirectoryName(path)!, $".{Path.GetFileName(path)}.{Environment.ProcessId}.{Guid.NewGuid():N}");
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Bind(new UnixDomainSocketEndPoint(temporary));
            File.Move(temporary, path, overwrite: true);
            return socket;
        }
        catch
        {
            socket.Dispose();
            File.Delete(temporary);
            throw;
        }
    }

    /// <summary>
    /// Closes every TCP listening socket: the kernel stops sending this server new connections (Kestrel's accept loops
    /// end as they do when Kestrel unbinds), while the connections it accepted stay open. Returns how many it closed.
    /// </summary>
    public int CloseAll()
    {
        Socket[] sockets;
        lock (_lock)
        {
            sockets = [.. _sockets];
            _sockets.Clear();
        }

        foreach (var socket in sockets)
            socket.Dispose();
        return sockets.Length;
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Not listening on {Endpoint} until {Precondition}: a server that could not answer yet must not take pods' connections")]
        public static partial void Waiting(ILogger logger, System.Net.IPEndPoint endpoint, string precondition);
    }
}
