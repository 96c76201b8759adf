using System.Buffers.Binary;
using System.Net.Sockets;

namespace MetadataProxy.Hosting;

/// <summary>
/// Who is at the other end of a node-socket connection, from the kernel (SO_PEERCRED): the socket's file mode keeps
/// others out, and this check holds even where a directory or file mode was loosened by hand.
/// </summary>
internal static class NodeSocketPeer
{
    private const int SolSocket = 1;
    private const int SoPeerCred = 17;

    /// <summary>The server's own effective user: it may always talk to itself (readiness self-checks, tests as root).</summary>
    public static uint OwnUid { get; } = ReadEffectiveUid();

    /// <summary>The peer's user id, or null when the kernel does not say (not Linux, not a Unix socket).</summary>
    public static uint? UidOf(Socket socket)
    {
        if (!OperatingSystem.IsLinux() || socket.AddressFamily != AddressFamily.Unix)
            return null;
        Span<byte> credentials = stackalloc byte[12]; // struct ucred { pid_t pid; uid_t uid; gid_t gid; }
        try
        {
            if (socket.GetRawSocketOption(SolSocket, SoPeerCred, credentials) != credentials.Length)
                return null;
            var uid = credentials[4..8]; // host byte order
            return BitConverter.IsLittleEndian ? BinaryPrimitives.ReadUInt32LittleEndian(uid) : BinaryPrimitives.ReadUInt32BigEndian(uid);
        }
        catch (SocketException)
        {
            return null;
        }
    }

    /// <summary>Root (the kubelet, host tools) and the server's own user; nobody else, and nobody the kernel cannot name.</summary>
    public static bool IsTrusted(uint? uid) => uid is 0 || (uid is { } u && u == OwnUid);

    /// <summary>From /proc/self/status ("Uid: real effective saved fs"): no native call, so no unsafe code.</summary>
    private static uint ReadEffectiveUid()
    {
        if (!OperatingSystem.IsLinux())
            return uint.MaxValue;
        var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("Uid:", StringComparison.Ordinal));
        var fields = line?.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        return fields is { Length: >= 3 } && uint.TryParse(fields[2], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var uid)
            ? uid
            : uint.MaxValue;
    }
}
