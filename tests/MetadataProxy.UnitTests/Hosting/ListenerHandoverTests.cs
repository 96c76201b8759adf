using System.Net.Sockets;
using MetadataProxy.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace MetadataProxy.UnitTests.Hosting;

/// <summary>Issue 10, point 4: on SIGTERM the old server stops accepting first, and closes its connections a moment later.</summary>
public sealed class ListenerHandoverTests
{
    [Fact]
    public async Task StoppingAsync_Listening_RefusesNewConnectionsAtOnceAndReturnsAfterTheDrainDelay()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "SO_REUSEPORT as Linux has it");
        var sockets = TestListenSockets.Create();
        var listener = sockets.Create(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        var endpoint = (IPEndPoint)listener.LocalEndPoint!;
        using var accepted = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await accepted.ConnectAsync(endpoint, TestContext.Current.CancellationToken);
        using var served = await listener.AcceptAsync(TestContext.Current.CancellationToken);
        var time = new FakeTimeProvider();
        var handover = new ListenerHandover(sockets, time, NullLogger<ListenerHandover>.Instance);

        var stopping = handover.StoppingAsync(TestContext.Current.CancellationToken);
        using var late = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var refused = await Assert.ThrowsAsync<SocketException>(async () => await late.ConnectAsync(endpoint, TestContext.Current.CancellationToken));
        Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
        Assert.False(stopping.IsCompleted, "idle connections must not be closed before the drain delay");
        // The connection accepted before the close is still open and usable.
        await accepted.SendAsync("ping"u8.ToArray(), TestContext.Current.CancellationToken);
        var buffer = new byte[4];
        Assert.Equal(4, await served.ReceiveAsync(buffer, TestContext.Current.CancellationToken));

        time.Advance(ListenerHandover.DrainDelay);
        await stopping.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
    }
}
