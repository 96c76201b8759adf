using System.Net.Sockets;

namespace MetadataProxy.Hosting;

/// <summary>The node socket's place in the file system: a private directory, no stale socket, a 0600 socket file.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")] // a node-local Unix socket: Kubernetes mode runs on Linux nodes
internal static class NodeSocketFile
{
    private const UnixFileMode DirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode SocketMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>
    /// Before binding: the directory exists (created 0700 when missing) and a socket left by a previous run is gone.
    /// A socket that still answers belongs to a running server, and anything else at the path is not ours to delete.
    /// </summary>
    public static void Prepare(string path)
    {
        var directory = Path.GetDirectoryName(path)!;
        if (!Directory.Exists(directory))
            Directory.CreateDirectory(directory, DirectoryMode);
        if (!File.Exists(path))
            return;

        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            probe.Connect(new UnixDomainSocketEndPoint(path));
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionRefused)
        {
            File.Delete(path); // a socket nobody listens on: what a stopped server leaves behind
            return;
        }
        catch (SocketException e)
        {
            throw new IOException($"Listen:NodeSocket '{path}' exists and is not a socket this server can replace ({e.SocketErrorCode}); remove it or choose another path.", e);
        }

        throw new IOException($"Listen:NodeSocket '{path}' is in use by a running process; another metadata server on this node?");
    }

    /// <summary>After binding: only the owner may connect (connect(2) needs write permission on the socket file).</summary>
    public static void Restrict(string path) => File.SetUnixFileMode(path, SocketMode);
}
