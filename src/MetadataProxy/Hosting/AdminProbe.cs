using System.Collections;
using System.Net.Sockets;
using System.Text;

namespace MetadataProxy.Hosting;

/// <summary>
/// <c>MetadataProxy probe /readyz</c> (or <c>/healthz</c>): the kubelet's exec probe. It asks this pod's own server on
/// its admin Unix socket (<see cref="ListenerOptions.AdminSocket"/>, in the pod's /tmp), so the answer is this pod's
/// even while the next release's pod shares the node's admin TCP port (issue 10, point 4). Exit 0 on 200, 1 otherwise,
/// with the server's answer (or why there was none) on standard output, which the kubelet shows in the pod's events.
/// It runs before any host is built: a socket, one request, one answer.
/// </summary>
internal static class AdminProbe
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(2);

    /// <summary>The probe as the kubelet runs it: the socket from the server's own configuration, then one request.</summary>
    public static int RunConfigured(string path, string contentRoot, IDictionary environment, TextWriter output)
    {
        var configured = AdminSocketSetting.Read(contentRoot, environment, out var problem);
        if (problem is not null)
        {
            output.WriteLine(problem);
            return 2;
        }

        return Run(path, SocketPath(configured), output);
    }

    /// <summary>
    /// Where the probe asks, given the configured <c>Listen:AdminSocket</c>: unset, the Kubernetes default; empty,
    /// nowhere (the server binds no admin socket then); else that path.
    /// </summary>
    public static string? SocketPath(string? configured) => configured switch
    {
        null => ListenerOptions.DefaultAdminSocket,
        "" => null,
        _ => configured,
    };

    public static int Run(string path, string? socketPath, TextWriter output)
    {
        if (path is not ("/readyz" or "/healthz"))
        {
            output.WriteLine($"probe: unknown path '{path}'; use /readyz or /healthz");
            return 2;
        }

        if (socketPath is null)
        {
            output.WriteLine($"probe: Listen:AdminSocket ({ListenerOptions.AdminSocketVariable}) is empty, so the server has no admin socket to ask; " +
                             "set it to a path, or probe the admin port with httpGet instead");
            return 2;
        }

        try
        {
            using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            socket.SendTimeout = socket.ReceiveTimeout = (int)Timeout.TotalMilliseconds;
            socket.Connect(new UnixDomainSocketEndPoint(socketPath));
            socket.Send(Encoding.ASCII.GetBytes($"GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"));
            var answer = ReadToEnd(socket);
            var ok = answer.StartsWith("HTTP/1.1 200 ", StringComparison.Ordinal);
            var body = answer.IndexOf("\r\n\r\n", StringComparison.Ordinal) is var end and >= 0 ? answer[(end + 4)..] : answer;
            output.Write(body.Length > 0 ? body : answer);
            return ok ? 0 : 1;
        }
        catch (SocketException e)
        {
            output.WriteLine($"probe: no answer on {socketPath} ({e.SocketErrorCode}): the server is not listening yet, or not at all");
            return 1;
        }
    }

    // The answer is small (a line per readiness reason); the server closes the connection after it.
    private static string ReadToEnd(Socket socket)
    {
        var buffer = new byte[64 * 1024];
        var length = 0;
        int read;
        while (length < buffer.Length && (read = socket.Receive(buffer, length, buffer.Length - length, SocketFlags.None)) > 0)
            length += read;
        return Encoding.UTF8.GetString(buffer, 0, length);
    }
}
