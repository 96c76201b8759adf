using MetadataProxy.Hosting;

namespace MetadataProxy.UnitTests.Hosting;

public sealed class ListenAddressTests
{
    [Theory]
    [InlineData("http://127.0.0.1:8080", "127.0.0.1:8080")]
    [InlineData("http://169.254.169.252:988/", "169.254.169.252:988")]
    [InlineData("http://localhost:9988", "127.0.0.1:9988")]
    [InlineData("http://*:9988", "0.0.0.0:9988")]
    [InlineData("http://0.0.0.0:1", "0.0.0.0:1")]
    [InlineData("http://[fd20:ce::254]:80", "[fd20:ce::254]:80")]
    [InlineData("http://127.0.0.1:8080; http://[::1]:8080", "127.0.0.1:8080|[::1]:8080")]
    public void TryParse_AcceptsHttpUrls(string urls, string expected)
    {
        Assert.True(ListenAddress.TryParse(urls, out var endpoints, out var error), error);
        Assert.Equal(expected.Split('|'), endpoints.Select(e => e.ToString()));
    }

    [Theory]
    [InlineData(null, "no URL given")]
    [InlineData(" ", "no URL given")]
    [InlineData("https://127.0.0.1:443", "not an http:// URL")]
    [InlineData("http://127.0.0.1", "no valid port")]
    [InlineData("http://127.0.0.1:99999", "no valid port")]
    [InlineData("http://metadata.google.internal:80", "must name an IP address")]
    public void TryParse_RefusesOthers_WithAReason(string? urls, string reason)
    {
        Assert.False(ListenAddress.TryParse(urls, out _, out var error));
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }

    [Fact]
    public void TryParse_KeepsIPv6Literals()
    {
        Assert.True(ListenAddress.TryParse("http://[::1]:80", out var endpoints, out _));
        Assert.Equal(IPAddress.IPv6Loopback, endpoints[0].Address);
    }
}
