using System.Net;
using System.Net.NetworkInformation;

namespace MetadataProxy.Hosting;

/// <summary>The addresses of this node's interfaces (the server runs with hostNetwork), read afresh on each call.</summary>
internal sealed class NodeAddresses : INodeAddresses
{
    public bool IsAssigned(IPAddress address) =>
        NetworkInterface.GetAllNetworkInterfaces()
            .SelectMany(i => i.GetIPProperties().UnicastAddresses)
            .Any(u => u.Address.Equals(address));
}
