using System.Net.Sockets;
using MetadataProxy.FunctionalTests.Infrastructure;

namespace MetadataProxy.FunctionalTests.Standalone;

/// <summary>The real executable, a listener that cannot bind: one line that names the address, exit code 3, no stack trace.</summary>
public sealed class ListenFailureTests
{
    [Fact]
    public async Task Start_MetadataPortHeldByAnotherProgram_SaysSoInOneLineAndExits3()
    {
        using var holder = new TcpListener(IPAddress.Loopback, 0);
        holder.Start();
        var port = ((IPEndPoint)holder.LocalEndpoint).Port;

        var (exitCode, stderr) = await ServerProcess.RunToExitAsync($"--Listen:Metadata=http://127.0.0.1:{port}");

        Assert.Equal(3, exitCode);
        Assert.Contains($"listen: Failed to bind to address http://127.0.0.1:{port}: address already in use. Another process holds it", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_AddressThatIsNotThisMachines_SaysSoAndExits3()
    {
        // 203.0.113.0/24 (TEST-NET-3) is on no interface here (the uplink is 192.0.2.0/24).
        var (exitCode, stderr) = await ServerProcess.RunToExitAsync("--Listen:Metadata=http://203.0.113.77:8988");

        Assert.Equal(3, exitCode);
        Assert.Contains("That address is not one of this machine's", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
    }
}
