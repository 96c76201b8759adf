using System.Text;

namespace MetadataProxy.EndToEnd.Lab;

/// <summary>
/// A tiny TCP server inside a network namespace that plays a metadata server in tests. An HTTP request (a head ending
/// in a blank line) gets <c>200</c> with the body "<c>{name} saw {caller address}</c>" and the connection closes; any
/// other bytes are recorded and the connection stays open, for tests about long-lived connections.
/// </summary>
public sealed class StandInServer : IAsyncDisposable
{
    private const string HeadEnd = "\r\n\r\n";

    private readonly Socket _listener;
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<ConnectionState> _connections = [];
    private readonly Task _acceptLoop;
    private TaskCompletionSource _changed = NewSignal();
    private int _disposed;

    private StandInServer(string name, Socket listener)
    {
        Name = name;
        _listener = listener;
        _acceptLoop = AcceptAsync();
    }

    public string Name { get; }

    public IPEndPoint Endpoint => (IPEndPoint)_listener.LocalEndPoint!;

    public IReadOnlyList<StandInConnection> Connections
    {
        get
        {
            lock (_connections)
                return [.. _connections.Select(c => new StandInConnection(c.Remote, c.Received.ToString()))];
        }
    }

    /// <summary>Listens on <paramref name="endpoint"/> inside <paramref name="networkNamespace"/>.</summary>
    public static StandInServer Start(string networkNamespace, IPEndPoint endpoint, string name)
    {
        var listener = NamespaceSockets.CreateTcp(networkNamespace, endpoint.AddressFamily);
        try
        {
            listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            listener.Bind(endpoint);
            listener.Listen(64);
        }
        catch
        {
            listener.Dispose();
            throw;
        }

        return new StandInServer(name, listener);
    }

    /// <summary>Waits until <paramref name="condition"/> holds for the connections seen so far.</summary>
    public async Task WaitUntilAsync(Func<IReadOnlyList<StandInConnection>, bool> condition, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        while (true)
        {
            Task changed;
            lock (_connections)
                changed = _changed.Task;
            if (condition(Connections))
                return;
            try
            {
                await changed.WaitAsync(deadline.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"{Name}: condition not met within {timeout}; connections: {string.Join("; ", Connections)}");
            }
        }
    }

    /// <summary>Stops listening and closes every connection; later calls do nothing (the lab disposes it too).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
            return;
        await _stopping.CancelAsync();
        _listener.Dispose();
        await _acceptLoop;
        _stopping.Dispose();
    }

    private async Task AcceptAsync()
    {
        var handlers = new List<Task>();
        try
        {
            while (true)
            {
                var client = await _listener.AcceptAsync(_stopping.Token);
                handlers.Add(ServeAsync(client));
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // stopped
        }

        await Task.WhenAll(handlers);
    }

    private async Task ServeAsync(Socket client)
    {
        using var _ = client;
        var state = new ConnectionState(((IPEndPoint)client.RemoteEndPoint!).Address);
        Record(() => _connections.Add(state));
        var buffer = new byte[4096];
        try
        {
            while (true)
            {
                var read = await client.ReceiveAsync(buffer, _stopping.Token);
                if (read == 0)
                    return;
                var text = Encoding.ASCII.GetString(buffer, 0, read);
                Record(() => state.Received.Append(text));
                if (state.Received.ToString().Contains(HeadEnd, StringComparison.Ordinal))
                {
                    var body = $"{Name} saw {state.Remote}\n";
                    var response = $"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n{body}";
                    await client.SendAsync(Encoding.ASCII.GetBytes(response), _stopping.Token);
                    client.Shutdown(SocketShutdown.Both);
                    return;
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // the peer reset the connection, or the server is stopping
        }
    }

    private void Record(Action change)
    {
        TaskCompletionSource changed;
        lock (_connections)
        {
            change();
            changed = _changed;
            _changed = NewSignal();
        }

        changed.TrySetResult();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private sealed class ConnectionState(IPAddress remote)
    {
        public IPAddress Remote { get; } = remote;

        public StringBuilder Received { get; } = new();
    }
}
