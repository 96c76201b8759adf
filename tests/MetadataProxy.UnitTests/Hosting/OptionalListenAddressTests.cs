using MetadataProxy.Hosting;

namespace MetadataProxy.UnitTests.Hosting;

/// <summary>Issue 10, point 6: which metadata addresses the server may leave unbound because the node lacks them.</summary>
public sealed class OptionalListenAddressTests
{
    private static readonly IPAddress Proxy6 = IPAddress.Parse("fd20:ce::252");

    [Fact]
    public void IsAbsent_IPv6AddressNotOnTheNode_IsTrue()
    {
        Assert.True(OptionalListenAddress.IsAbsent(new IPEndPoint(Proxy6, 988), new FakeNodeAddresses()));
    }

    [Fact]
    public void IsAbsent_IPv6AddressTheScriptAddedToLo_IsFalse()
    {
        Assert.False(OptionalListenAddress.IsAbsent(new IPEndPoint(Proxy6, 988), new FakeNodeAddresses(Proxy6)));
    }

    // IPv4 is always intercepted (a missing address is a broken install: the bind fails and says so); the wildcard and
    // loopback addresses exist on every node.
    [Theory]
    [InlineData("169.254.169.252")]
    [InlineData("0.0.0.0")]
    [InlineData("::")]
    [InlineData("::1")]
    public void IsAbsent_AddressThatMustBind_IsFalseEvenIfNotListed(string address)
    {
        Assert.False(OptionalListenAddress.IsAbsent(new IPEndPoint(IPAddress.Parse(address), 988), new FakeNodeAddresses()));
    }

    [Theory]
    [InlineData("169.254.169.252", "IPv4")]
    [InlineData("fd20:ce::252", "IPv6")]
    public void FamilyOf_NamesTheFamily(string address, string family)
    {
        Assert.Equal(family, OptionalListenAddress.FamilyOf(new IPEndPoint(IPAddress.Parse(address), 988)));
    }
}
