using MetadataProxy.CredentialProvider.Cli;

namespace MetadataProxy.CredentialProvider.Tests.Cli;

public sealed class CommandLineTests
{
    [Fact]
    public void Parse_GetCredentialsWithOptions_CollectsSocketAndRegistries()
    {
        var invocation = CommandLine.Parse("metadata-proxy-credential-provider", ["get-credentials", "--socket", "/s", "--registry", "a.example.com", "--registry=b.example.com"]);

        Assert.True(invocation.Succeeded);
        Assert.Equal(CommandKind.GetCredentials, invocation.Value.Command);
        Assert.Equal("/s", invocation.Value.SocketPath);
        Assert.Equal(["a.example.com", "b.example.com"], invocation.Value.Registries!);
    }

    [Theory]
    [InlineData("docker-credential-metadataproxy", new[] { "get" }, "get")]
    [InlineData("docker-credential-gcr", new[] { "list" }, "list")]
    [InlineData("metadata-proxy-credential-provider", new[] { "docker-credential", "erase" }, "erase")]
    public void Parse_DockerHelper_ByNameOrSubcommand(string programName, string[] args, string verb)
    {
        var invocation = CommandLine.Parse(programName, args);

        Assert.True(invocation.Succeeded);
        Assert.Equal(CommandKind.DockerCredential, invocation.Value.Command);
        Assert.Equal(verb, invocation.Value.Verb);
    }

    [Fact]
    public void Parse_Install_TakesTheDirectory()
    {
        var invocation = CommandLine.Parse("metadata-proxy-credential-provider", ["install", "/host/bin"]);

        Assert.True(invocation.Succeeded);
        Assert.Equal(CommandKind.Install, invocation.Value.Command);
        Assert.Equal("/host/bin", invocation.Value.Directory);
    }

    [Theory]
    [InlineData("metadata-proxy-credential-provider", new string[0], "no command given")]
    [InlineData("metadata-proxy-credential-provider", new[] { "fetch" }, "unknown command 'fetch'")]
    [InlineData("metadata-proxy-credential-provider", new[] { "get-credentials", "--verbose" }, "unknown argument '--verbose'")]
    [InlineData("metadata-proxy-credential-provider", new[] { "get-credentials", "--socket" }, "--socket needs a value")]
    [InlineData("metadata-proxy-credential-provider", new[] { "install" }, "exactly one argument")]
    [InlineData("metadata-proxy-credential-provider", new[] { "install", "a", "b" }, "exactly one argument")]
    [InlineData("metadata-proxy-credential-provider", new[] { "docker-credential" }, "exactly one argument")]
    [InlineData("docker-credential-metadataproxy", new string[0], "exactly one argument")]
    [InlineData("docker-credential-metadataproxy", new[] { "get", "extra" }, "exactly one argument")]
    public void Parse_Wrong_IsUsageErrorOnOneLine(string programName, string[] args, string expected)
    {
        var invocation = CommandLine.Parse(programName, args);

        Assert.False(invocation.Succeeded);
        Assert.Equal(2, invocation.Failure.ExitCode);
        Assert.Contains(expected, invocation.Failure.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', invocation.Failure.Message);
    }
}
