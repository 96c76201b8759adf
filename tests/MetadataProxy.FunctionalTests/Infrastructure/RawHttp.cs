using System.Net.Sockets;
using System.Text;

namespace MetadataProxy.FunctionalTests.Infrastructure;

/// <summary>Sends bytes an HttpClient would refuse to send (or would clean up) and reads the raw answer.</summary>
internal static class RawHttp
{
    public static async Task<(int Status, string Headers, string Body)> SendAsync(Uri server, string requestHead)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(server.Host, server.Port, TestContext.Current.CancellationToken);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.Latin1.GetBytes(requestHead), TestContext.Current.CancellationToken);

        using var buffer = new MemoryStream();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        try
        {
            await stream.CopyToAsync(buffer, timeout.Token);
        }
        catch (IOException)
        {
            // The server may reset after answering a request it rejected; what arrived is the answer.
        }

        var text = Encoding.Latin1.GetString(buffer.ToArray());
        var split = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        var head = split < 0 ? text : text[..split];
        var status = head.Length >= 12 ? int.Parse(head.AsSpan(9, 3), provider: System.Globalization.CultureInfo.InvariantCulture) : 0;
        return (status, head, split < 0 ? "" : text[(split + 4)..]);
    }
}
