using System.IO.Pipelines;
using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Features;

namespace MetadataProxy.Hosting;

/// <summary>
/// The connection as Kestrel's HTTP layer sees it, except that the peer's FIN does not abort the request at once
/// (issue 9, row 4). Kestrel treats a FIN as "the client is gone" and drops the answer, but a client that
/// half-closes after its request (shutdown(SHUT_WR), as some scripts and proxies do) is still reading. The close is
/// passed on after <paramref name="grace"/>, longer than any non-waiting answer takes, so a client that really went
/// away still releases its wait_for_change (and its connection slot) within seconds.
/// </summary>
internal sealed class HalfCloseTolerantConnection(ConnectionContext inner, TimeSpan grace, TimeProvider time) : ConnectionContext
{
    private readonly CancellationTokenSource _closed = new();
    private CancellationTokenRegistration _registration;
    private ITimer? _timer;

    public void Start() =>
        _registration = inner.ConnectionClosed.Register(() =>
            _timer = time.CreateTimer(_ => _closed.Cancel(), null, grace, Timeout.InfiniteTimeSpan));

    public override string ConnectionId
    {
        get => inner.ConnectionId;
        set => inner.ConnectionId = value;
    }

    public override IFeatureCollection Features => inner.Features;

    public override IDictionary<object, object?> Items
    {
        get => inner.Items;
        set => inner.Items = value;
    }

    public override IDuplexPipe Transport
    {
        get => inner.Transport;
        set => inner.Transport = value;
    }

    public override CancellationToken ConnectionClosed
    {
        get => _closed.Token;
        set => throw new NotSupportedException("The close signal is derived from the transport's.");
    }

    public override EndPoint? LocalEndPoint
    {
        get => inner.LocalEndPoint;
        set => inner.LocalEndPoint = value;
    }

    public override EndPoint? RemoteEndPoint
    {
        get => inner.RemoteEndPoint;
        set => inner.RemoteEndPoint = value;
    }

    public override void Abort(ConnectionAbortedException abortReason) => inner.Abort(abortReason);

    /// <summary>
    /// Stops the grace timer; the token source is left to the collector (it holds no timer of its own), so a timer
    /// callback racing this cannot meet a disposed source.
    /// </summary>
    public override async ValueTask DisposeAsync()
    {
        await _registration.DisposeAsync();
        if (_timer is not null)
            await _timer.DisposeAsync();
        await base.DisposeAsync();
    }
}
