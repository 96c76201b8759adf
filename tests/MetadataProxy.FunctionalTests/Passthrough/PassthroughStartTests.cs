using MetadataProxy.FunctionalTests.Infrastructure;

namespace MetadataProxy.FunctionalTests.Passthrough;

/// <summary>Issue 12: the real executable refuses bad passthrough settings, and a loop, at start with exit code 2.</summary>
public sealed class PassthroughStartTests
{
    [Fact]
    public async Task Start_WithTheUpstreamBeingThisVeryServer_RefusesTheLoopAndExits2()
    {
        // The upstream must name the listener's port before the start: a fresh port, another if it was taken meanwhile.
        var (exitCode, stderr, port) = await ServerProcess.RunToExitOnAFreePortAsync(chosen =>
            [$"--Listen:Metadata=http://127.0.0.1:{chosen}", "--Upstream:Mode=Passthrough", $"--Upstream:Address=http://127.0.0.1:{chosen}"]);

        Assert.Equal(2, exitCode);
        Assert.Contains($"configuration: Upstream:Address 'http://127.0.0.1:{port}' answers as this very server (a loop)", stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--Upstream:Address=https://169.254.169.254", "Upstream:Address 'https://169.254.169.254' must be an http:// URL with a host and no path")]
    [InlineData("--Upstream:Address=http://169.254.169.254/computeMetadata/v1", "Upstream:Address 'http://169.254.169.254/computeMetadata/v1' must be an http:// URL")]
    [InlineData("--Upstream:Address=169.254.169.254", "Upstream:Address '169.254.169.254' must be an http:// URL")]
    [InlineData("--Upstream:Allow:0=instance/attributes/kube-env", "Upstream:Allow 'instance/attributes/kube-env' names 'kube-env', which is concealed")]
    [InlineData("--Upstream:Allow:0=instance/service-accounts", "Upstream:Allow 'instance/service-accounts' names 'service-accounts', which is concealed")]
    [InlineData("--Upstream:Allow:0=instance", "Upstream:Allow 'instance' is a whole top-level directory")]
    [InlineData("--Upstream:Allow:0=instance/../attributes", "Upstream:Allow 'instance/../attributes' must be a path below /computeMetadata/v1/ of plain keys")]
    [InlineData("--Upstream:Mode=Always", "Failed to convert configuration value 'Always' at 'Upstream:Mode'")]
    public async Task Start_WithABadUpstreamSetting_NamesIt(string argument, string problem)
    {
        var (exitCode, stderr) = await ServerProcess.RunToExitAsync("--Upstream:Mode=Passthrough", argument);

        Assert.Equal(2, exitCode);
        Assert.Contains(problem, stderr, StringComparison.Ordinal);
    }
}
