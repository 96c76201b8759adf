using System.Net;
using System.Net.Sockets;

namespace MetadataProxy.TestServers;

/// <summary>The Kestrel both test servers run on: loopback port 0, or a listening socket made elsewhere (a network namespace).</summary>
internal static class LoopbackHost
{
    public static WebApplicationBuilder CreateBuilder(Socket? listenSocket)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(kestrel =>
        {
            if (listenSocket is null)
                kestrel.Listen(IPAddress.Loopback, 0);
            else
                kestrel.ListenHandle((ulong)listenSocket.Handle); // Kestrel does not own (close) a handle it is given
        });
        return builder;
    }
}
