using MetadataProxy.Hosting;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Time.Testing;

namespace MetadataProxy.UnitTests.Hosting;

public sealed class HalfCloseTolerantConnectionTests
{
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(3.3);

    [Fact]
    public async Task ConnectionClosed_TransportClosed_FiresOnlyAfterTheGrace()
    {
        var time = new FakeTimeProvider();
        using var transportClosed = new CancellationTokenSource();
        await using var connection = new HalfCloseTolerantConnection(new DefaultConnectionContext("c1") { ConnectionClosed = transportClosed.Token }, Grace, time);
        connection.Start();

        await transportClosed.CancelAsync();
        time.Advance(Grace - TimeSpan.FromMilliseconds(1));
        Assert.False(connection.ConnectionClosed.IsCancellationRequested);

        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(connection.ConnectionClosed.IsCancellationRequested);
    }

    [Fact]
    public async Task ConnectionClosed_TransportOpen_NeverFires()
    {
        var time = new FakeTimeProvider();
        using var transportClosed = new CancellationTokenSource();
        await using var connection = new HalfCloseTolerantConnection(new DefaultConnectionContext("c1") { ConnectionClosed = transportClosed.Token }, Grace, time);
        connection.Start();

        time.Advance(TimeSpan.FromHours(1));

        Assert.False(connection.ConnectionClosed.IsCancellationRequested);
    }

    [Fact]
    public async Task DisposeAsync_DuringTheGrace_StopsTheTimer()
    {
        var time = new FakeTimeProvider();
        using var transportClosed = new CancellationTokenSource();
        var connection = new HalfCloseTolerantConnection(new DefaultConnectionContext("c1") { ConnectionClosed = transportClosed.Token }, Grace, time);
        connection.Start();
        await transportClosed.CancelAsync();

        await connection.DisposeAsync();
        time.Advance(Grace);

        Assert.False(connection.ConnectionClosed.IsCancellationRequested);
    }

    [Fact]
    public async Task EverythingButTheCloseSignal_IsTheTransportsOwn()
    {
        var inner = new DefaultConnectionContext("c1");
        await using var connection = new HalfCloseTolerantConnection(inner, Grace, new FakeTimeProvider());
        connection.Items["key"] = "value";

        Assert.Same(inner.Items, connection.Items);
        Assert.Same(inner.Features, connection.Features);
        Assert.Same(inner.Transport, connection.Transport);
        Assert.Equal("c1", connection.ConnectionId);
    }
}
