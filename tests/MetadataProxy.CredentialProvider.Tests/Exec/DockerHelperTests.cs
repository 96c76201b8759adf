using System.Text.Json;
using MetadataProxy.CredentialProvider.Tests.Infrastructure;

namespace MetadataProxy.CredentialProvider.Tests.Exec;

/// <summary>Docker's view: exec docker-credential-metadataproxy (a symlink to the real binary) or the docker-credential sub-command.</summary>
public sealed class DockerHelperTests : IAsyncLifetime
{
    private readonly TempDirectory _directory = new();
    private StandInServer _server = null!;
    private string _helper = null!;

    public async ValueTask InitializeAsync()
    {
        _server = await StandInServer.StartAsync(_directory, tcp: true);
        _helper = _directory.File("docker-credential-metadataproxy");
        File.CreateSymbolicLink(_helper, PluginBinary.AppHost);
    }

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        _directory.Dispose();
    }

    [Fact]
    public async Task Get_ViaSymlinkOnANode_AnswersWithTheNodeToken()
    {
        var run = await PluginProcess.RunAsync(_helper, ["get"], "us-docker.pkg.dev\n", OnNode());

        Assert.Equal(0, run.ExitCode);
        AssertCredentials(run.StandardOutput, "us-docker.pkg.dev", StandInServer.NodeToken);
        var request = Assert.Single(_server.Requests);
        Assert.Equal(("GET", "/registry/v1/node-token", "Google"), (request.Method, request.Path, request.MetadataFlavor));
    }

    [Fact]
    public async Task Get_ViaSubcommandWithoutSocket_UsesTheMetadataApiOverTcp()
    {
        var run = await PluginProcess.RunAsync(PluginBinary.AppHost, ["docker-credential", "get"], "https://gcr.io", InPod());

        Assert.Equal(0, run.ExitCode);
        AssertCredentials(run.StandardOutput, "https://gcr.io", StandInServer.MetadataToken);
        var request = Assert.Single(_server.Requests);
        Assert.Equal(("GET", "/computeMetadata/v1/instance/service-accounts/default/token", "Google"), (request.Method, request.Path, request.MetadataFlavor));
    }

    [Fact]
    public async Task Get_ExtraRegistryFromEnvironment_IsServed()
    {
        var environment = new Dictionary<string, string>(InPod()) { ["METADATA_PROXY_REGISTRIES"] = "registry.example.com" };

        var run = await PluginProcess.RunAsync(_helper, ["get"], "registry.example.com", environment);

        Assert.Equal(0, run.ExitCode);
        AssertCredentials(run.StandardOutput, "registry.example.com", StandInServer.MetadataToken);
    }

    [Theory]
    [InlineData("https://index.docker.io/v1/")]
    [InlineData("ghcr.io")]
    public async Task Get_NotAGoogleRegistry_PrintsTheProtocolsNotFoundAndExitsOne(string serverUrl)
    {
        var run = await PluginProcess.RunAsync(_helper, ["get"], serverUrl, OnNode());

        Assert.Equal(1, run.ExitCode);
        Assert.Equal("credentials not found in native keychain\n", run.StandardOutput);
        Assert.Equal("metadata-proxy-credential-provider: credentials not found in native keychain", run.SingleErrorLine());
        Assert.Empty(_server.Requests);
    }

    [Fact]
    public async Task Get_EmptyStdin_PrintsTheProtocolsMissingServerUrl()
    {
        var run = await PluginProcess.RunAsync(_helper, ["get"], "", OnNode());

        Assert.Equal(1, run.ExitCode);
        Assert.Equal("no credentials server URL\n", run.StandardOutput);
    }

    [Fact]
    public async Task Get_MetadataServerRefuses_ExitsOneWithItsReason()
    {
        _server.Behaviour.Status = 404;
        _server.Behaviour.Reason = "No service account for this pod";

        var run = await PluginProcess.RunAsync(_helper, ["get"], "gcr.io", InPod());

        Assert.Equal(1, run.ExitCode);
        var reason = $"the metadata server {_server.TcpAddress} refused (404 Not Found): No service account for this pod";
        Assert.Equal(reason + "\n", run.StandardOutput);
        Assert.Equal("metadata-proxy-credential-provider: " + reason, run.SingleErrorLine());
    }

    [Fact]
    public async Task Get_NoMetadataServerListening_ExitsOneAtOnce()
    {
        var environment = new Dictionary<string, string>(InPod()) { ["GCE_METADATA_HOST"] = "127.0.0.1:1" };

        var run = await PluginProcess.RunAsync(_helper, ["get"], "gcr.io", environment);

        Assert.Equal(1, run.ExitCode);
        Assert.Equal("metadata-proxy-credential-provider: cannot reach the metadata server 127.0.0.1:1: Connection refused", run.SingleErrorLine());
        Assert.True(run.Elapsed < TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Get_MalformedMetadataHost_ExitsTwo()
    {
        var environment = new Dictionary<string, string>(InPod()) { ["GCE_METADATA_HOST"] = "http://127.0.0.1:80/x" };

        var run = await PluginProcess.RunAsync(_helper, ["get"], "gcr.io", environment);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("GCE_METADATA_HOST='http://127.0.0.1:80/x' is not host[:port]", run.SingleErrorLine(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task List_ViaSymlink_NamesTheGoogleRegistriesWithTheUsername()
    {
        var run = await PluginProcess.RunAsync(_helper, ["list"], "unused", OnNode());

        Assert.Equal(0, run.ExitCode);
        Assert.Equal("{\"gcr.io\":\"oauth2accesstoken\",\"container.cloud.google.com\":\"oauth2accesstoken\"}\n", run.StandardOutput);
        Assert.Empty(_server.Requests);
    }

    [Theory]
    [InlineData("store", "{\"ServerURL\":\"gcr.io\",\"Username\":\"u\",\"Secret\":\"s\"}", "store is not supported")]
    [InlineData("erase", "gcr.io", "erase is not supported")]
    public async Task StoreAndErase_ViaSymlinkAndSubcommand_RefuseWithExitOne(string verb, string stdin, string expected)
    {
        var bySymlink = await PluginProcess.RunAsync(_helper, [verb], stdin, OnNode());
        var bySubcommand = await PluginProcess.RunAsync(PluginBinary.AppHost, ["docker-credential", verb], stdin, OnNode());

        foreach (var run in new[] { bySymlink, bySubcommand })
        {
            Assert.Equal(1, run.ExitCode);
            Assert.StartsWith(expected, run.StandardOutput, StringComparison.Ordinal);
            Assert.Contains(expected, run.SingleErrorLine(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Run_UnknownVerb_ExitsTwo()
    {
        var run = await PluginProcess.RunAsync(_helper, ["delete"], "", OnNode());

        Assert.Equal(2, run.ExitCode);
        Assert.Equal("unknown credential action `delete`; expected get, list, store, erase or version\n", run.StandardOutput);
    }

    private static void AssertCredentials(string stdout, string serverUrl, string secret)
    {
        var root = JsonDocument.Parse(stdout).RootElement;
        Assert.Equal(["ServerURL", "Username", "Secret"], root.EnumerateObject().Select(p => p.Name));
        Assert.Equal(serverUrl, root.GetProperty("ServerURL").GetString());
        Assert.Equal("oauth2accesstoken", root.GetProperty("Username").GetString());
        Assert.Equal(secret, root.GetProperty("Secret").GetString());
    }

    private Dictionary<string, string> OnNode() => new() { ["METADATA_PROXY_SOCKET"] = _server.SocketPath };

    /// <summary>No socket file: a pod or a laptop, where the metadata API answers.</summary>
    private Dictionary<string, string> InPod() => new()
    {
        ["METADATA_PROXY_SOCKET"] = _directory.File("absent.sock"),
        ["GCE_METADATA_HOST"] = _server.TcpAddress!,
    };
}
