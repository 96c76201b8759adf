using System.Net.Sockets;
using System.Text;

namespace MetadataProxy.FunctionalTests.Hardening;

/// <summary>Many TCP connections from one source address, held open until disposed: what a hostile pod does.</summary>
internal sealed class Flood : IDisposable
{
    private readonly List<Socket> _sockets = [];

    public int Count => _sockets.Count;

    /// <summary>Opens <paramref name="count"/> connections from <paramref name="source"/>, each sending <paramref name="prefix"/> (nothing: idle).</summary>
    public static async Task<Flood> OpenAsync(Uri target, IPAddress source, int count, string prefix = "")
    {
        var flood = new Flood();
        try
        {
            for (var i = 0; i < count; i++)
            {
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
                flood._sockets.Add(socket);
                socket.Bind(new IPEndPoint(source, 0));
                await socket.ConnectAsync(target.Host, target.Port, TestContext.Current.CancellationToken);
                if (prefix.Length > 0)
                    await socket.SendAsync(Encoding.ASCII.GetBytes(prefix), TestContext.Current.CancellationToken);
            }
        }
        catch
        {
            flood.Dispose();
            throw;
        }

        return flood;
    }

    /// <summary>Waits, at most <paramref name="within"/>, until the server has closed every connection; returns how many it closed.</summary>
    public async Task<int> ClosedByServerAsync(TimeSpan within)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(within);
        var closed = await Task.WhenAll(_sockets.Select(async socket =>
        {
            var buffer = new byte[1024];
            try
            {
                while (await socket.ReceiveAsync(buffer, timeout.Token) > 0)
                {
                    // whatever the server says before closing (a 408, a 503) is not what this counts
                }

                return true;
            }
            catch (SocketException)
            {
                return true; // reset: closed too
            }
            catch (OperationCanceledException) when (!TestContext.Current.CancellationToken.IsCancellationRequested)
            {
                return false;
            }
        }));
        return closed.Count(c => c);
    }

    public void Dispose()
    {
        foreach (var socket in _sockets)
            socket.Dispose();
    }
}
