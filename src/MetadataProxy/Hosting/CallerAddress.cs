using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;

namespace MetadataProxy.Hosting;

/// <summary>
/// Decision 2: the caller is the socket's peer address, read from the socket itself. HttpContext's
/// RemoteIpAddress can be rewritten by middleware (ASP.NET's forwarded-headers support, switched on by an
/// environment variable in many base images), so it is never trusted for identity.
/// The address is read once, when the connection is accepted, and kept with the connection: a socket the client
/// has half-closed may be disposed while its request is still answered (issue 9, row 4), and reading it then throws.
/// </summary>
internal static class CallerAddress
{
    private const string ItemKey = "metadata-proxy-caller";

    /// <summary>Reads the peer address from the accepted socket; null for a socket without one (a Unix socket).</summary>
    public static IPAddress? Capture(ConnectionContext connection)
    {
        var socket = connection.Features.Get<IConnectionSocketFeature>()?.Socket;
        if (socket is null || socket.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6))
            return null;
        try
        {
            if (socket.RemoteEndPoint is not IPEndPoint peer)
                return null;
            var address = Normalise(peer.Address);
            connection.Items[ItemKey] = address;
            return address;
        }
        catch (Exception e) when (e is ObjectDisposedException or SocketException)
        {
            return null; // gone before it was admitted: nothing will be answered on it
        }
    }

    public static IPAddress Of(HttpContext context) =>
        context.Features.Get<IConnectionItemsFeature>()?.Items.TryGetValue(ItemKey, out var item) == true && item is IPAddress address
            ? address
            : IPAddress.None; // no socket address (a Unix socket, another transport): an address no identity can match

    public static IPAddress Normalise(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
}
