using MetadataProxy.Hosting;

namespace MetadataProxy.UnitTests.Hosting;

/// <summary>A node whose interface addresses a test sets, as the interception script adds or removes them on lo.</summary>
internal sealed class FakeNodeAddresses(params IPAddress[] assigned) : INodeAddresses
{
    private readonly HashSet<IPAddress> _assigned = [.. assigned];

    public void Add(IPAddress address) => _assigned.Add(address);

    public bool IsAssigned(IPAddress address) => _assigned.Contains(address);
}
