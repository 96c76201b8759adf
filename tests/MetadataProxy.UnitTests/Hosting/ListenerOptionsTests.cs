using MetadataProxy.Hosting;

namespace MetadataProxy.UnitTests.Hosting;

public sealed class ListenerOptionsTests
{
    // Issue 10, point 6: the script's default targets of both families (METADATA_PROXY_ADDRESS, METADATA_PROXY_ADDRESS6, port 8988).
    [Fact]
    public void ApplyDefaults_Kubernetes_ListensOnBothInterceptionTargets()
    {
        var options = new ListenerOptions();

        options.ApplyDefaults(ProxyMode.Kubernetes);

        Assert.True(ListenAddress.TryParse(options.Metadata, out var endpoints, out var error), error);
        Assert.Equal(["169.254.169.252:8988", "[fd20:ce::252]:8988"], endpoints.Select(e => e.ToString()));
    }
}
