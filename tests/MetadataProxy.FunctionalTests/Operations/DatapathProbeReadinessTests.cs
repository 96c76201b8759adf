using MetadataProxy.FunctionalTests.Infrastructure;
using MetadataProxy.FunctionalTests.Kubernetes;
using Microsoft.Extensions.Options;

namespace MetadataProxy.FunctionalTests.Operations;

/// <summary>
/// Issue 10, points 2 and 3: with <c>Operations:DatapathProbeFile</c> the server is ready only once the init
/// container's probe has written the target it proved, that target is one of the server's own metadata listeners, and
/// the server's canary answers there; each failure is a reason on <c>/readyz</c>.
/// </summary>
public sealed class DatapathProbeReadinessTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("mpxcn-probe-").FullName;

    private string MarkerFile => Path.Combine(_directory, "passed");

    [Fact]
    public async Task Readyz_NoProbeResult_Is503NamingTheFile()
    {
        await using var server = await StartAsync();

        var body = await NotReadyAsync(server, "the datapath probe has not passed");

        Assert.Contains(
            $"the datapath probe has not passed: {MarkerFile} does not exist (the probe-datapath init container writes it when a pod's request reaches this node's DNAT target)\n",
            body,
            StringComparison.Ordinal);
    }

    [Fact]
    public async Task Readyz_ProbeResultNamesThisServersListener_BecomesReady()
    {
        await using var server = await StartAsync();
        await NotReadyAsync(server, "does not exist");

        await File.WriteAllTextAsync(MarkerFile, $"target={server.HostAndPort}\nsource=198.51.100.200\nnonce=00\n", TestContext.Current.CancellationToken);

        using var admin = ProxyServer.CreateClient(server.AdminUri, source: null);
        await KubernetesLab.WaitUntilAsync(async () => (await admin.GetAsync("/readyz", flavor: false)).StatusCode == HttpStatusCode.OK);
        Assert.Equal("ready\n", (await admin.GetWithBodyAsync("/readyz", flavor: false)).Body);
    }

    [Fact]
    public async Task Readyz_ProbeResultNamesAnotherPort_Is503SayingTheTwoConfigurationsDiffer()
    {
        await File.WriteAllTextAsync(MarkerFile, "target=127.0.0.1:1\n", TestContext.Current.CancellationToken);
        await using var server = await StartAsync();

        var body = await NotReadyAsync(server, "the datapath probe proved");

        Assert.Contains(
            $"the datapath probe proved that pods reach 127.0.0.1:1, but this server's metadata listeners are {server.HostAndPort}: "
            + "METADATA_PROXY_ADDRESS and METADATA_PROXY_PORT (interception.env) must match Listen__Metadata (config.env)\n",
            body,
            StringComparison.Ordinal);
    }

    [Fact]
    public async Task Readyz_ProbeResultWithoutTarget_Is503()
    {
        await File.WriteAllTextAsync(MarkerFile, "source=198.51.100.200\n", TestContext.Current.CancellationToken);
        await using var server = await StartAsync();

        var body = await NotReadyAsync(server, "names no target");

        Assert.Contains($"the datapath probe's result {MarkerFile} names no target (a line target=ADDRESS:PORT)\n", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_RelativeProbeFile_IsAConfigurationError()
    {
        var settings = Fixture.MetadataSettings();
        settings["Operations:DatapathProbeFile"] = "run/passed";

        var failure = await Assert.ThrowsAsync<OptionsValidationException>(async () => await (await ProxyServer.StartAsync(settings)).DisposeAsync());

        Assert.Equal(
            "Operations:DatapathProbeFile 'run/passed' must be an absolute path (or empty: no datapath probe condition).",
            Assert.Single(failure.Failures));
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private Task<ProxyServer> StartAsync()
    {
        var settings = Fixture.MetadataSettings();
        settings["Operations:DatapathProbeFile"] = MarkerFile;
        return ProxyServer.StartAsync(settings);
    }

    private static async Task<string> NotReadyAsync(ProxyServer server, string reason)
    {
        using var admin = ProxyServer.CreateClient(server.AdminUri, source: null);
        var body = "";
        await KubernetesLab.WaitUntilAsync(async () =>
        {
            var (response, text) = await admin.GetWithBodyAsync("/readyz", flavor: false);
            body = text;
            return response.StatusCode == HttpStatusCode.ServiceUnavailable && text.Contains(reason, StringComparison.Ordinal);
        });
        return body;
    }
}
