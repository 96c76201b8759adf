using System.Net.Sockets;
using MetadataProxy.FunctionalTests.Infrastructure;
using MetadataProxy.FunctionalTests.Kubernetes;
using MetadataProxy.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace MetadataProxy.FunctionalTests.Operations;

/// <summary>
/// Issue 10, point 6: <c>Listen:Metadata</c> lists both families; an IPv6 address the node lacks (no IPv6
/// interception there) is left unbound and the server is ready, while any other address that cannot be bound still
/// stops the start. 2001:db8::/32 and 192.0.2.0/24 are documentation ranges no test machine has.
/// </summary>
public sealed class MetadataListenerFamilyTests
{
    [Fact]
    public async Task Start_IPv6AddressNotOnTheNode_IsLeftUnboundAndTheServerIsReady()
    {
        var settings = Fixture.MetadataSettings();
        settings["Listen:Metadata"] = "http://127.0.0.1:0;http://[2001:db8::a1]:0";
        await using var server = await ProxyServer.StartAsync(settings);
        using var admin = ProxyServer.CreateClient(server.AdminUri, source: null);

        await KubernetesLab.WaitUntilAsync(async () => (await admin.GetAsync("/readyz", flavor: false)).StatusCode == HttpStatusCode.OK);

        var listeners = server.Services.GetRequiredService<Listeners>();
        Assert.Equal(["2001:db8::a1"], listeners.MetadataAbsent.Select(e => e.Address.ToString()));
        Assert.Equal(["127.0.0.1"], listeners.MetadataEndpoints.Select(e => e.Address.ToString()));
        var (response, body) = await server.CreateClient().GetWithBodyAsync("/computeMetadata/v1/project/project-id");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Fixture.ProjectId, body);
    }

    [Fact]
    public async Task Start_IPv4AddressNotOnTheNode_FailsToBind()
    {
        var settings = Fixture.MetadataSettings();
        settings["Listen:Metadata"] = "http://127.0.0.1:0;http://192.0.2.77:0";

        var failure = await Assert.ThrowsAsync<SocketException>(async () => await (await ProxyServer.StartAsync(settings)).DisposeAsync());

        Assert.Equal(SocketError.AddressNotAvailable, failure.SocketErrorCode);
    }
}
