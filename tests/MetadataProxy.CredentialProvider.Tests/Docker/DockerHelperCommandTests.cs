using System.Text;
using MetadataProxy.CredentialProvider.Docker;
using MetadataProxy.CredentialProvider.Registries;
using MetadataProxy.CredentialProvider.Tokens;

namespace MetadataProxy.CredentialProvider.Tests.Docker;

/// <summary>The verbs that need no token; get against a token source is covered by the exec tests.</summary>
public sealed class DockerHelperCommandTests
{
    // Nothing listens here: a test that reached the network would fail, not pass by accident.
    private static readonly TokenEndpoint Unreachable = TokenEndpoint.MetadataApi("127.0.0.1:1")!;

    [Theory]
    [InlineData("docker.io")]
    [InlineData("https://index.docker.io/v1/")]
    [InlineData("gcr.io.evil.com")]
    [InlineData("pkg.dev")]
    public async Task Get_NotAGoogleRegistry_IsTheProtocolsNotFound(string serverUrl)
    {
        var result = await Command().RunAsync("get", Encoding.UTF8.GetBytes(serverUrl), TestContext.Current.CancellationToken);

        Assert.False(result.Succeeded);
        Assert.Equal(1, result.Failure.ExitCode);
        Assert.Equal("credentials not found in native keychain", result.Failure.Message);
    }

    [Fact]
    public async Task Get_EmptyInput_IsTheProtocolsMissingServerUrl()
    {
        var result = await Command().RunAsync("get", "\n"u8.ToArray(), TestContext.Current.CancellationToken);

        Assert.False(result.Succeeded);
        Assert.Equal("no credentials server URL", result.Failure.Message);
    }

    [Fact]
    public async Task List_Defaults_NamesTheListableGoogleRegistries()
    {
        var result = await Command().RunAsync("list", [], TestContext.Current.CancellationToken);

        Assert.True(result.Succeeded);
        Assert.Equal("{\"gcr.io\":\"oauth2accesstoken\",\"container.cloud.google.com\":\"oauth2accesstoken\"}\n", result.Value);
    }

    [Theory]
    [InlineData("store", "store is not supported")]
    [InlineData("erase", "erase is not supported")]
    public async Task StoreOrErase_Always_RefusedWithExitOne(string verb, string expected)
    {
        var result = await Command().RunAsync(verb, "{}"u8.ToArray(), TestContext.Current.CancellationToken);

        Assert.False(result.Succeeded);
        Assert.Equal(1, result.Failure.ExitCode);
        Assert.StartsWith(expected, result.Failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_UnknownVerb_IsUsageError()
    {
        var result = await Command().RunAsync("delete", [], TestContext.Current.CancellationToken);

        Assert.False(result.Succeeded);
        Assert.Equal(2, result.Failure.ExitCode);
        Assert.Contains("unknown credential action `delete`", result.Failure.Message, StringComparison.Ordinal);
    }

    private static DockerHelperCommand Command() => new(RegistryPatterns.Build([], null).Value!, Unreachable);
}
