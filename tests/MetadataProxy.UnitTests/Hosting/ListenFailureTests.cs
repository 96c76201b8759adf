using System.Net.Sockets;
using MetadataProxy.Hosting;
using Microsoft.AspNetCore.Connections;

namespace MetadataProxy.UnitTests.Hosting;

/// <summary>A listener that cannot bind ends the process with one line (exit 3), not an unhandled exception.</summary>
public sealed class ListenFailureTests
{
    [Fact]
    public void Describe_KestrelsAddressInUse_NamesTheAddressAndWhatToDo()
    {
        // As Kestrel's AddressBinder throws it.
        var kestrel = new IOException("Failed to bind to address http://127.0.0.1:8988: address already in use.",
            new AddressInUseException("Address already in use", new SocketException((int)SocketError.AddressAlreadyInUse)));

        Assert.Equal("listen: Failed to bind to address http://127.0.0.1:8988: address already in use. Another process holds it: stop that process, or set Listen:Metadata / Listen:Admin to a free address.",
            ListenFailure.Describe(kestrel));
    }

    [Fact]
    public void Describe_InsideTheHostsAggregate_IsFoundAsWell()
    {
        var bind = new IOException("Failed to bind to address 0.0.0.0:80: permission denied", new SocketException((int)SocketError.AccessDenied));

        var line = ListenFailure.Describe(new AggregateException(new InvalidOperationException("start failed", bind)));

        Assert.StartsWith("listen: Failed to bind to address 0.0.0.0:80: permission denied. A port below 1024 needs CAP_NET_BIND_SERVICE", line, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(SocketError.AccessDenied, "A port below 1024 needs CAP_NET_BIND_SERVICE")]
    [InlineData(SocketError.AddressNotAvailable, "That address is not one of this machine's")]
    public void Describe_BareBindErrors_SayWhatToCheck(SocketError error, string advice)
    {
        var line = ListenFailure.Describe(new SocketException((int)error));

        Assert.NotNull(line);
        Assert.StartsWith("listen: a listener could not bind: ", line, StringComparison.Ordinal);
        Assert.Contains(advice, line, StringComparison.Ordinal);
    }

    [Fact]
    public void Describe_OtherFailures_AreNotBindFailures()
    {
        // A refused connection to the API server at start is not the listener's: it keeps its own handling and trace.
        Assert.Null(ListenFailure.Describe(new HttpRequestException("Connection refused", new SocketException((int)SocketError.ConnectionRefused))));
        Assert.Null(ListenFailure.Describe(new IOException("disk full")));
        Assert.Null(ListenFailure.Describe(new InvalidOperationException("bug")));
    }

    [Theory]
    [InlineData(SocketError.AddressAlreadyInUse, "address already in use")]
    [InlineData(SocketError.AccessDenied, "permission denied")]
    [InlineData(SocketError.AddressNotAvailable, "cannot assign requested address")]
    public void Reason_IsKestrelsWording(SocketError error, string reason) =>
        Assert.Equal(reason, ListenFailure.Reason(new SocketException((int)error)));
}
