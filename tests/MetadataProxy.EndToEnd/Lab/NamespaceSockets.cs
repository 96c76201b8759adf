using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace MetadataProxy.EndToEnd.Lab;

/// <summary>
/// Creates sockets that live in a named network namespace while the test process stays in its own: a socket
/// belongs to the namespace of the thread that created it, for its whole life, whichever thread uses it later.
/// So a short-lived thread enters the namespace (setns), creates the socket and ends; everything else in the
/// process is untouched.
/// </summary>
internal static partial class NamespaceSockets
{
    private const int CloneNewNet = 0x40000000;

    public static Socket CreateTcp(string networkNamespace, AddressFamily family)
    {
        Socket? socket = null;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                socket = CreateInside(networkNamespace, family);
            }
            catch (Exception e) when (e is IOException or SocketException or UnauthorizedAccessException)
            {
                failure = e;
            }
        })
        {
            IsBackground = true,
            Name = $"netns {networkNamespace}",
        };
        thread.Start();
        thread.Join();
        return socket ?? throw new InvalidOperationException($"Cannot create a socket in network namespace {networkNamespace}.", failure);
    }

    private static Socket CreateInside(string networkNamespace, AddressFamily family)
    {
        using var own = File.OpenHandle("/proc/thread-self/ns/net");
        using var target = File.OpenHandle(Path.Combine("/run/netns", networkNamespace));
        Enter(target, networkNamespace);
        try
        {
            return new Socket(family, SocketType.Stream, ProtocolType.Tcp);
        }
        finally
        {
            // The thread ends right after; going back is hygiene, not a requirement.
            Enter(own, "the test process's own");
        }
    }

    private static void Enter(SafeFileHandle networkNamespace, string name)
    {
        if (SetNs(networkNamespace, CloneNewNet) != 0)
            throw new IOException($"setns into {name} network namespace failed with errno {Marshal.GetLastPInvokeError()}.");
    }

    [LibraryImport("libc", EntryPoint = "setns", SetLastError = true)]
    private static partial int SetNs(SafeFileHandle fd, int nstype);
}
