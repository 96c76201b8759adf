using System.Net;

namespace MetadataProxy.Hosting;

/// <summary>Whether an address is on one of this node's interfaces now: the interception script adds its listen addresses to lo.</summary>
internal interface INodeAddresses
{
    bool IsAssigned(IPAddress address);
}
