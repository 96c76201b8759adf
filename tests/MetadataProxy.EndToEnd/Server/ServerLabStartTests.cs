using System.Diagnostics;

namespace MetadataProxy.EndToEnd.Server;

/// <summary>
/// The lab itself: a server that exits during its start fails the test at once with its exit code and whole output,
/// not after the lab's start-up patience with "exited: True".
/// </summary>
public sealed class ServerLabStartTests
{
    [Fact]
    public async Task InitializeAsync_ServerRefusesItsConfiguration_FailsAtOnceWithTheExitCodeAndItsOutput()
    {
        // Pods .101 to .103, namespaces mpxls-*: apart from the other labs.
        await using var lab = new ServerLab { NamespacePrefix = "mpxls", PodAddressBase = 100, ExtraServerArguments = ["--Listen:MaxConnections=1"] };
        var clock = Stopwatch.StartNew();
        var failure = await Record.ExceptionAsync(() => lab.InitializeAsync().AsTask());
        clock.Stop();
        lab.SkipUnlessBuilt();

        Assert.IsType<InvalidOperationException>(failure);
        Assert.Contains("The server exited with code 2 ", failure.Message, StringComparison.Ordinal);
        Assert.Contains("configuration: Listen:MaxConnections 1 must be between 16 and 100000", failure.Message, StringComparison.Ordinal);
        // The lab's network, test servers and rules take a few seconds; the server's start-up patience is 30 s.
        Assert.InRange(clock.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(25));
    }
}
