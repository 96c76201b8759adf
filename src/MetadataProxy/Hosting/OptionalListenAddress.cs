using System.Net;
using System.Net.Sockets;

namespace MetadataProxy.Hosting;

/// <summary>
/// Issue 10, point 6: the interception script adds its IPv6 listen address (METADATA_PROXY_ADDRESS6) to lo only when
/// it intercepts IPv6 (IPV6=on, or auto on a node with IPv6). So an IPv6 metadata address missing from the node means
/// nothing is sent there: the server starts without that listener instead of failing to bind, and readiness watches
/// for the address to appear (<see cref="Operations.MetadataListenerCheck"/>). Any other address must bind.
/// </summary>
internal static class OptionalListenAddress
{
    public static bool IsAbsent(IPEndPoint endpoint, INodeAddresses node) =>
        endpoint.AddressFamily == AddressFamily.InterNetworkV6
        && !endpoint.Address.Equals(IPAddress.IPv6Any)
        && !IPAddress.IsLoopback(endpoint.Address)
        && !node.IsAssigned(endpoint.Address);

    /// <summary>"IPv4" or "IPv6": readiness reasons name the family an operator turns on or off in the interception.</summary>
    public static string FamilyOf(IPEndPoint endpoint) => endpoint.AddressFamily == AddressFamily.InterNetworkV6 ? "IPv6" : "IPv4";
}
