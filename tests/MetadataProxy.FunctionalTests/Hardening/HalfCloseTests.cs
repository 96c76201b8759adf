using System.Net.Sockets;
using System.Text;
using MetadataProxy.FunctionalTests.Infrastructure;

namespace MetadataProxy.FunctionalTests.Hardening;

/// <summary>
/// Issue 9, row 4: a client that half-closes (shutdown(SHUT_WR)) after its request still gets the answer, and
/// nothing is logged as an error for it.
/// </summary>
public sealed class HalfCloseTests
{
    private static readonly Dictionary<string, string> CleanMachine = new()
    {
        ["HOME"] = Path.GetTempPath(),
        ["GCE_METADATA_HOST"] = "127.0.0.1:9", // ADC's own metadata probe fails at once
    };

    [Fact]
    public async Task HalfClosedClients_AreAnswered_WithoutErrorLogs()
    {
        await using var server = await ServerProcess.StartAsync(CleanMachine, "--Metadata:ProjectId=test-project",
            "--Standalone:Identities:0:Cidr=127.0.0.1/32");

        var answers = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => SendAndHalfCloseAsync(server.MetadataUri,
            "GET /computeMetadata/v1/project/project-id HTTP/1.1\r\nHost: metadata\r\nMetadata-Flavor: Google\r\n\r\n")));

        Assert.All(answers, answer =>
        {
            Assert.StartsWith("HTTP/1.1 200 OK\r\n", answer, StringComparison.Ordinal);
            Assert.EndsWith("\r\n\r\ntest-project", answer, StringComparison.Ordinal);
        });
        Assert.DoesNotContain("ObjectDisposedException", server.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("fail:", server.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HalfClosedClient_GetsItsIdentityListing()
    {
        await using var server = await ServerProcess.StartAsync(CleanMachine, "--Metadata:ProjectId=test-project",
            "--Standalone:Identities:0:Cidr=127.0.0.1/32", "--Standalone:Identities:0:GoogleServiceAccount=app@test-project.iam.gserviceaccount.com");

        var answer = await SendAndHalfCloseAsync(server.MetadataUri,
            "GET /computeMetadata/v1/instance/service-accounts/default/email HTTP/1.1\r\nHost: metadata\r\nMetadata-Flavor: Google\r\n\r\n");

        Assert.StartsWith("HTTP/1.1 200 OK\r\n", answer, StringComparison.Ordinal);
        Assert.EndsWith("\r\n\r\napp@test-project.iam.gserviceaccount.com", answer, StringComparison.Ordinal);
        Assert.DoesNotContain("fail:", server.Output, StringComparison.Ordinal);
    }

    /// <summary>Writes the request, shuts the sending side down, and reads until the server closes.</summary>
    private static async Task<string> SendAndHalfCloseAsync(Uri server, string request)
    {
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(server.Host, server.Port, TestContext.Current.CancellationToken);
        await socket.SendAsync(Encoding.ASCII.GetBytes(request), TestContext.Current.CancellationToken);
        socket.Shutdown(SocketShutdown.Send);

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        var received = new MemoryStream();
        var buffer = new byte[4096];
        try
        {
            int read;
            while ((read = await socket.ReceiveAsync(buffer, timeout.Token)) > 0)
                received.Write(buffer, 0, read);
        }
        catch (SocketException)
        {
            // A reset ends the answer; what arrived before it is what the client got.
        }

        return Encoding.ASCII.GetString(received.ToArray());
    }
}
