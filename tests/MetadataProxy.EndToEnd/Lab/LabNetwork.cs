namespace MetadataProxy.EndToEnd.Lab;

/// <summary>
/// The addresses of every lab. Only documentation ranges that the machine does not use: pods on TEST-NET-2
/// (198.51.100.0/24, 2001:db8:100::/64), the node's uplink on TEST-NET-3 (203.0.113.0/24, 2001:db8:203::/64).
/// </summary>
/// <remarks>
/// <code>
///  pod netns ─eth0══v&lt;pod&gt;─┐          node netns                         cloud netns
///  198.51.100.x/24          cni0 198.51.100.1/24   eth0 203.0.113.2 ══ eth0 203.0.113.1
///  2001:db8:100::x/64       (bridge) 2001:db8:100::1    2001:db8:203::2    2001:db8:203::1
///                           lo: (the script adds 169.254.169.252)          lo: 169.254.169.254, fd20:ce::254
/// </code>
/// The node forwards, and the cloud namespace holds the real metadata addresses, so traffic that escapes the
/// interception visibly reaches "the cloud's metadata server" instead of failing by accident.
/// </remarks>
public static class LabNetwork
{
    public const string UplinkInterface = "eth0";
    public const string PodBridge = "cni0";
    public const int ProxyPort = 8988;

    public static readonly IPAddress PodGateway4 = IPAddress.Parse("198.51.100.1");
    public static readonly IPAddress PodGateway6 = IPAddress.Parse("2001:db8:100::1");
    public const string PodCidr4 = "198.51.100.0/24";
    public const string PodCidr6 = "2001:db8:100::/64";

    public static readonly IPAddress NodeUplink4 = IPAddress.Parse("203.0.113.2");
    public static readonly IPAddress NodeUplink6 = IPAddress.Parse("2001:db8:203::2");
    public static readonly IPAddress Cloud4 = IPAddress.Parse("203.0.113.1");
    public static readonly IPAddress Cloud6 = IPAddress.Parse("2001:db8:203::1");

    public static readonly IPAddress Metadata4 = IPAddress.Parse("169.254.169.254");
    public static readonly IPAddress Metadata6 = IPAddress.Parse("fd20:ce::254");
    public static readonly IPAddress Proxy4 = IPAddress.Parse("169.254.169.252");
    public static readonly IPAddress Proxy6 = IPAddress.Parse("fd20:ce::252");

    /// <summary>The IPv6 address a pod gets beside <paramref name="ipv4"/>: the same host number in 2001:db8:100::/64.</summary>
    public static IPAddress PodIPv6For(IPAddress ipv4) => IPAddress.Parse($"2001:db8:100::{ipv4.GetAddressBytes()[3]:x}");
}
