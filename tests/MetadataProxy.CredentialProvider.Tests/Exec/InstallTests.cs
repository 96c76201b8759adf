using MetadataProxy.CredentialProvider.Tests.Infrastructure;

namespace MetadataProxy.CredentialProvider.Tests.Exec;

/// <summary>install DIR as an init container runs it: the executable copies itself and links the Docker helper name.</summary>
public sealed class InstallTests : IDisposable
{
    private const UnixFileMode Mode0755 =
        UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
        | UnixFileMode.GroupRead | UnixFileMode.GroupExecute
        | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;

    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task Install_NewDirectory_CopiesItselfWithMode0755AndLinksTheHelper()
    {
        var target = Path.Combine(_directory.Path, "host", "bin");

        var run = await PluginProcess.RunAsync(PluginBinary.AppHost, ["install", target], "");

        Assert.Equal(0, run.ExitCode);
        Assert.Equal("", run.StandardError);
        AssertInstalled(target);
    }

    [Fact]
    public async Task Install_Twice_IsIdempotentAndLeavesNoTemporaryFiles()
    {
        var target = _directory.File("bin");
        Directory.CreateDirectory(target);
        await File.WriteAllTextAsync(Path.Combine(target, "metadata-proxy-credential-provider"), "an older version", TestContext.Current.CancellationToken);

        var first = await PluginProcess.RunAsync(PluginBinary.AppHost, ["install", target], "");
        var second = await PluginProcess.RunAsync(PluginBinary.AppHost, ["install", target], "");

        Assert.Equal((0, 0), (first.ExitCode, second.ExitCode));
        AssertInstalled(target);
        Assert.Equal(
            ["docker-credential-metadataproxy", "metadata-proxy-credential-provider"],
            Directory.GetFileSystemEntries(target).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Install_DirectoryIsAFile_ExitsOneWithReason()
    {
        var blocker = _directory.File("not-a-directory");
        await File.WriteAllTextAsync(blocker, "x", TestContext.Current.CancellationToken);

        var run = await PluginProcess.RunAsync(PluginBinary.AppHost, ["install", blocker], "");

        Assert.Equal(1, run.ExitCode);
        Assert.Contains($"cannot install into {blocker}", run.SingleErrorLine(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Install_NoDirectory_ExitsTwo()
    {
        var run = await PluginProcess.RunAsync(PluginBinary.AppHost, ["install"], "");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("install takes exactly one argument", run.SingleErrorLine(), StringComparison.Ordinal);
    }

    private static void AssertInstalled(string directory)
    {
        var installed = Path.Combine(directory, "metadata-proxy-credential-provider");
        Assert.Equal(File.ReadAllBytes(PluginBinary.AppHost), File.ReadAllBytes(installed));
        Assert.Equal(Mode0755, File.GetUnixFileMode(installed));

        var link = new FileInfo(Path.Combine(directory, "docker-credential-metadataproxy"));
        Assert.Equal("metadata-proxy-credential-provider", link.LinkTarget);
    }
}
