using System.Net.Sockets;

namespace MetadataProxy.FunctionalTests.Infrastructure;

/// <summary>HTTP over a Unix socket (the node socket), as a process on the node connects.</summary>
internal static class UnixSocketClient
{
    public static HttpClient For(string path)
    {
        var handler = new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            ConnectCallback = async (_, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        return new HttpClient(handler) { BaseAddress = new Uri("http://node.socket/"), Timeout = TimeSpan.FromSeconds(30) };
    }
}
