using System.Net.Sockets;
using System.Text;
using MetadataProxy.Hosting;

namespace MetadataProxy.UnitTests.Hosting;

/// <summary>Issue 10, point 4: the kubelet's exec probe asks this pod's own server, on its admin socket.</summary>
public sealed class AdminProbeTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("admin-probe-").FullName;

    private string SocketPath => Path.Combine(_directory, "admin.sock");

    [Theory]
    [InlineData("200 OK", "ready\n", 0)]
    [InlineData("503 Service Unavailable", "the pod index has not completed its first list of this node's pods\n", 1)]
    public async Task Run_ServerAnswers_ExitsByTheStatusAndPrintsTheBody(string status, string body, int exitCode)
    {
        using var server = Listen();
        var answering = AnswerOnceAsync(server, $"HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nConnection: close\r\nContent-Length: {Encoding.UTF8.GetByteCount(body)}\r\n\r\n{body}");
        using var output = new StringWriter();

        var result = await Task.Run(() => AdminProbe.Run("/readyz", SocketPath, output), TestContext.Current.CancellationToken);
        var request = await answering;

        Assert.Equal((exitCode, body), (result, output.ToString()));
        Assert.StartsWith("GET /readyz HTTP/1.1\r\n", request, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_NothingListening_FailsAndSaysWhere()
    {
        using var output = new StringWriter();

        var result = AdminProbe.Run("/healthz", SocketPath, output);

        Assert.Equal(1, result);
        Assert.StartsWith($"probe: no answer on {SocketPath} (", output.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, "/tmp/metadata-proxy-admin.sock")]
    [InlineData("", null)]
    [InlineData("/run/mp/admin.sock", "/run/mp/admin.sock")]
    public void SocketPath_FollowsTheContainersSetting_EmptyMeansNone(string? configured, string? expected) =>
        Assert.Equal(expected, AdminProbe.SocketPath(configured));

    [Fact]
    public void Run_AdminSocketTurnedOff_IsAUsageErrorThatSaysSo()
    {
        using var output = new StringWriter();

        var result = AdminProbe.Run("/readyz", socketPath: null, output);

        Assert.Equal(2, result);
        Assert.StartsWith("probe: Listen:AdminSocket (Listen__AdminSocket) is empty, so the server has no admin socket to ask;", output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Run_UnknownPath_IsAUsageError()
    {
        using var output = new StringWriter();

        var result = AdminProbe.Run("/metrics", SocketPath, output);

        Assert.Equal((2, "probe: unknown path '/metrics'; use /readyz or /healthz\n"), (result, output.ToString().ReplaceLineEndings("\n")));
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private Socket Listen()
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(SocketPath));
        socket.Listen();
        return socket;
    }

    private static async Task<string> AnswerOnceAsync(Socket server, string answer)
    {
        using var connection = await server.AcceptAsync(TestContext.Current.CancellationToken);
        var buffer = new byte[4096];
        var read = await connection.ReceiveAsync(buffer, TestContext.Current.CancellationToken);
        await connection.SendAsync(Encoding.UTF8.GetBytes(answer), TestContext.Current.CancellationToken);
        connection.Shutdown(SocketShutdown.Both);
        return Encoding.UTF8.GetString(buffer, 0, read);
    }
}
