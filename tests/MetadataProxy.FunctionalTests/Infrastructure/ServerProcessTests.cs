using System.Diagnostics;
using System.Net.Sockets;

namespace MetadataProxy.FunctionalTests.Infrastructure;

/// <summary>
/// The harness itself: a server that cannot start fails its test at once, saying why (CI once waited 30 s for a
/// "Now listening on" line from a process that had exited, and reported only "The operation has timed out").
/// </summary>
public sealed class ServerProcessTests
{
    private static readonly Dictionary<string, string> CleanMachine = new()
    {
        ["HOME"] = Path.GetTempPath(),
        ["GCE_METADATA_HOST"] = "127.0.0.1:9", // ADC's own metadata probe fails at once
    };

    [Fact]
    public async Task StartAsync_ServerRefusesItsConfiguration_FailsAtOnceWithTheExitCodeAndItsOutput()
    {
        var clock = Stopwatch.StartNew();
        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => ServerProcess.StartAsync(CleanMachine, "--Listen:MaxConnections=1"));
        clock.Stop();
        TestContext.Current.TestOutputHelper?.WriteLine($"The refused start failed the test after {clock.Elapsed.TotalSeconds:0.00} s.");

        // The exit takes about a second (the runtime's start); 30 s was the harness waiting for a line that never came.
        Assert.InRange(clock.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(10));
        Assert.Contains("The server exited with code 2 ", failure.Message, StringComparison.Ordinal);
        Assert.Contains("configuration: Listen:MaxConnections 1 must be between 16 and 100000", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartAsync_NoMetadataListenerWithinThePatience_TimesOutWithTheOutputSoFar()
    {
        // A later argument wins: the server starts and listens, but not where the harness waits for it.
        var failure = await Assert.ThrowsAsync<TimeoutException>(() =>
            ServerProcess.StartAsync(CleanMachine, TimeSpan.FromSeconds(10), "--Listen:Metadata=http://127.0.0.3:0"));

        Assert.StartsWith("The server did not listen on 127.0.0.1 within 00:00:10; its output so far:\n", failure.Message, StringComparison.Ordinal);
        Assert.Contains("Now listening on: http://127.0.0.3:", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunToExitAsync_PortHeldByAnotherSocket_ExitsAndIsRecognisedAsAddressInUse()
    {
        // What RunToExitOnAFreePortAsync retries on: the port it chose was taken before the server bound it.
        using var holder = new TcpListener(IPAddress.Loopback, 0);
        holder.Start();
        var port = ((IPEndPoint)holder.LocalEndpoint).Port;

        var (exitCode, stderr) = await ServerProcess.RunToExitAsync($"--Listen:Metadata=http://127.0.0.1:{port}");

        Assert.NotEqual(0, exitCode);
        Assert.True(ServerProcess.IsAddressInUse(stderr, port), $"not recognised as address in use:\n{stderr}");
        Assert.False(ServerProcess.IsAddressInUse(stderr, port + 1), "another port's conflict must not be taken for this one");
    }
}
