using System.Net.Sockets;

namespace MetadataProxy.Hosting;

/// <summary>The node socket's place in the file system: a private directory, no stale socket, a 0600 socket file.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")] // a node-local Unix socket: Kubernetes mode runs on Linux nodes
internal static class NodeSocketFile
{
    private const UnixFileMode DirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode SocketMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>
    /// Before binding: the directory exists (created 0700 when missing). A socket at the path, stale or still answering,
    /// is replaced atomically by the bind (<see cref="ListenSockets"/>): during an upgrade the old server's socket still
    /// answers, and the new server takes the path over without a moment where it is missing. Anything else at the path
    /// is not ours to replace.
    /// </summary>
    public static void Prepare(string path, string setting = "Listen:NodeSocket")
    {
        var directory = Path.GetDirectoryName(path)!;
        if (!Directory.Exists(directory))
            Directory.CreateDirectory(directory, DirectoryMode);
        if (!File.Exists(path))
            return;

        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            probe.Connect(new UnixDomainSocketEndPoint(path)); // a running server: the one this one replaces
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionRefused)
        {
            // a socket nobody listens on: what a stopped server leaves behind
        }
        catch (SocketException e)
        {
            throw new IOException($"{setting} '{path}' exists and is not a socket this server can replace ({e.SocketErrorCode}); remove it or choose another path.", e);
        }
    }

    /// <summary>After binding: only the owner may connect (connect(2) needs write permission on the socket file).</summary>
    public static void Restrict(string path) => File.SetUnixFileMode(path, SocketMode);
}
