using System.Net;
using System.Text;
using MetadataProxy.Operations;
using Microsoft.AspNetCore.Connections;
using KestrelListenOptions = Microsoft.AspNetCore.Server.Kestrel.Core.ListenOptions;

namespace MetadataProxy.Hosting;

/// <summary>
/// The first thing every accepted TCP connection meets: its peer address is captured, it is admitted by the
/// listener's <see cref="ConnectionGate"/> or answered 503 and closed, and what follows sees a half-close as
/// a half-close (<see cref="HalfCloseTolerantConnection"/>).
/// </summary>
internal static partial class GatedListener
{
    /// <summary>How long a FIN waits before it aborts the request: past the request budget (G-21), so every non-waiting answer fits.</summary>
    public static readonly TimeSpan HalfCloseGrace = MetadataEndpoint.RequestBudget + TimeSpan.FromSeconds(0.5);

    public static void Use(KestrelListenOptions listen, ConnectionGate gate, bool metadataFlavor)
    {
        listen.Use(next =>
        {
            var metrics = listen.ApplicationServices.GetRequiredService<ProxyMetrics>();
            var time = listen.ApplicationServices.GetRequiredService<TimeProvider>();
            var logger = listen.ApplicationServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(GatedListener));
            return connection => AdmitAsync(connection, next, gate, metadataFlavor, metrics, time, logger);
        });
    }

    private static async Task AdmitAsync(ConnectionContext connection, ConnectionDelegate next, ConnectionGate gate, bool metadataFlavor,
        ProxyMetrics metrics, TimeProvider time, ILogger logger)
    {
        var source = CallerAddress.Capture(connection) ?? IPAddress.None;
        var fromNode = connection.LocalEndPoint is IPEndPoint local && CallerAddress.Normalise(local.Address).Equals(source);
        var admission = gate.TryEnter(source, fromNode);
        if (admission != ConnectionAdmission.Admitted)
        {
            metrics.ConnectionRefused(gate.Listener, admission);
            Log.Refused(logger, gate.Listener, source, admission);
            await RefuseAsync(connection, gate, source, admission, metadataFlavor);
            return;
        }

        metrics.ConnectionOpened(gate.Listener);
        var tolerant = new HalfCloseTolerantConnection(connection, HalfCloseGrace, time);
        try
        {
            tolerant.Start();
            await next(tolerant);
        }
        finally
        {
            await tolerant.DisposeAsync();
            gate.Leave(source, fromNode);
            metrics.ConnectionClosed(gate.Listener);
        }
    }

    /// <summary>
    /// A plain 503 before closing, so a client library reports a busy server rather than a broken one; the
    /// flood's own connections are the ones that meet it.
    /// </summary>
    private static async Task RefuseAsync(ConnectionContext connection, ConnectionGate gate, IPAddress source, ConnectionAdmission admission, bool metadataFlavor)
    {
        var message = admission == ConnectionAdmission.SourceFull
            ? $"Too many connections from {source}: at most {gate.MaxPerSource} at once; close idle connections and retry.\n"
            : $"The {gate.Listener} listener holds its maximum of {gate.MaxTotal} connections; retry shortly.\n";
        var body = Encoding.UTF8.GetBytes(message);
        var head = "HTTP/1.1 503 Service Unavailable\r\n"
            + (metadataFlavor ? $"{MetadataHeaders.Flavor}: {MetadataHeaders.FlavorValue}\r\n" : "")
            + "Content-Type: text/plain; charset=utf-8\r\nRetry-After: 1\r\nConnection: close\r\n"
            + $"Content-Length: {body.Length}\r\n\r\n";
        try
        {
            await connection.Transport.Output.WriteAsync(Encoding.ASCII.GetBytes(head));
            await connection.Transport.Output.WriteAsync(body);
            await connection.Transport.Output.CompleteAsync();
        }
        catch (Exception e) when (e is IOException or ConnectionResetException or ConnectionAbortedException or InvalidOperationException)
        {
            // The client is gone already; the refusal is counted either way.
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Debug, Message = "Refused a connection on the {Listener} listener from {RemoteAddress}: {Admission}")]
        public static partial void Refused(ILogger logger, string listener, IPAddress remoteAddress, ConnectionAdmission admission);
    }
}
