using MetadataProxy.Hosting;
using MetadataProxy.Operations;
using MetadataProxy.UnitTests.Hosting;
using Microsoft.Extensions.Hosting.Internal;
using Microsoft.Extensions.Logging.Abstractions;

namespace MetadataProxy.UnitTests.Operations;

/// <summary>
/// Issue 10, point 6: readiness covers every intercepted family. The answering listeners are covered end to end
/// (tests/MetadataProxy.EndToEnd/Server/Ipv6ListenerTests.cs); these are the cases without a bound listener.
/// </summary>
public sealed class MetadataListenerCheckTests
{
    private static readonly IPEndPoint Proxy6 = new(IPAddress.Parse("fd20:ce::252"), 8988);

    [Fact]
    public async Task Check_IPv6AddressAppearedAfterStart_IsNotReadyNamingTheFamily()
    {
        var listeners = new Listeners();
        listeners.MetadataAbsent.Add(Proxy6);
        var node = new FakeNodeAddresses();
        node.Add(Proxy6.Address);

        var problem = await Check(listeners, node);

        Assert.Equal(
            "IPv6: fd20:ce::252 is on this node now (the interception covers IPv6), but it was not at start, so the server does not listen on [fd20:ce::252]:8988; restart the pod",
            problem);
    }

    [Fact]
    public async Task Check_NoMetadataAddressBound_IsNotReady()
    {
        var listeners = new Listeners();
        listeners.MetadataAbsent.Add(Proxy6);

        var problem = await Check(listeners, new FakeNodeAddresses());

        Assert.Equal("no metadata listener is bound (Listen:Metadata names no address on this node)", problem);
    }

    private static async Task<string?> Check(Listeners listeners, INodeAddresses node)
    {
        using var check = new MetadataListenerCheck(
            listeners, node, new ApplicationLifetime(NullLogger<ApplicationLifetime>.Instance), TimeProvider.System, NullLogger<MetadataListenerCheck>.Instance);
        return await check.CheckAsync(TestContext.Current.CancellationToken);
    }
}
