using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;

namespace MetadataProxy.Hosting;

/// <summary>
/// A listener that cannot bind (the port is held, the address is not this machine's, a low port without the
/// capability): one line for the operator and exit code 3, instead of an unhandled exception and an abort.
/// </summary>
internal static class ListenFailure
{
    public const int ExitCode = 3;

    /// <summary>The line to print, or null when <paramref name="exception"/> is not a failure to bind.</summary>
    public static string? Describe(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                // Kestrel's "Failed to bind to address http://…:PORT: address already in use.", and ours (ListenSockets).
                case IOException { InnerException: AddressInUseException or SocketException } bind:
                    return $"listen: {bind.Message.TrimEnd('.')}. {Advice(bind.InnerException)}";
                // Kestrel lets other bind errors through as they are, without the address.
                case SocketException { SocketErrorCode: SocketError.AccessDenied or SocketError.AddressNotAvailable or SocketError.AddressAlreadyInUse } socket:
                    return $"listen: a listener could not bind: {socket.Message}. {Advice(socket)}";
            }
        }

        return null;
    }

    /// <summary>A bind error in Kestrel's words ("address already in use"), so that both kinds of listener read alike.</summary>
    public static string Reason(SocketException e) => e.SocketErrorCode switch
    {
        SocketError.AddressAlreadyInUse => "address already in use",
        SocketError.AccessDenied => "permission denied",
        SocketError.AddressNotAvailable => "cannot assign requested address",
        _ => e.Message,
    };

    private static string Advice(Exception? cause) => cause switch
    {
        SocketException { SocketErrorCode: SocketError.AccessDenied } =>
            "A port below 1024 needs CAP_NET_BIND_SERVICE; the metadata port is 8988 behind the DNAT, so check Listen:Metadata and Listen:Admin.",
        SocketException { SocketErrorCode: SocketError.AddressNotAvailable } =>
            "That address is not one of this machine's; check Listen:Metadata and Listen:Admin.",
        _ => "Another process holds it: stop that process, or set Listen:Metadata / Listen:Admin to a free address.",
    };
}
