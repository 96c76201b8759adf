using System.Net;
using Microsoft.AspNetCore.Connections.Features;

namespace MetadataProxy.Hosting;

/// <summary>
/// Decision 2: the caller is the socket's peer address, read from the socket itself. HttpContext's
/// RemoteIpAddress can be rewritten by middleware (ASP.NET's forwarded-headers support, switched on by an
/// environment variable in many base images), so it is never trusted for identity.
/// </summary>
internal static class CallerAddress
{
    public static IPAddress Of(HttpContext context)
    {
        var address = context.Features.Get<IConnectionSocketFeature>()?.Socket.RemoteEndPoint is IPEndPoint peer
            ? peer.Address
            : IPAddress.None; // no socket (not Kestrel's socket transport): an address no identity can match
        return address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
    }
}
