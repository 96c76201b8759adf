using MetadataProxy.FunctionalTests.Infrastructure;

namespace MetadataProxy.FunctionalTests.Standalone;

/// <summary>Bad configuration stops the real executable with one line per problem and exit code 2.</summary>
public sealed class StartupValidationTests
{
    [Fact]
    public async Task Start_WithSeveralBadKeys_PrintsOneLinePerProblemAndExits2()
    {
        var (exitCode, stderr) = await ServerProcess.RunToExitAsync(
            "--Metadata:ProjectId=Bad_Project",
            "--Metadata:InstanceId=-5",
            "--Listen:Metadata=https://127.0.0.1:0",
            "--Standalone:Identities:0:Cidr=not-a-cidr",
            "--Standalone:Identities:0:GoogleServiceAccount=someone@example.com");

        Assert.Equal(2, exitCode);
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains(lines, l => l.Contains("Metadata:ProjectId 'Bad_Project'", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("Metadata:InstanceId '-5'", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("Listen:Metadata: 'https://127.0.0.1:0' is not an http:// URL", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("Standalone:Identities:0:Cidr 'not-a-cidr'", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("Standalone:Identities:0:GoogleServiceAccount 'someone@example.com'", StringComparison.Ordinal));
        Assert.All(lines, l => Assert.StartsWith("configuration: ", l, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Start_StandaloneWithANodeSocket_SaysOnlyKubernetesModeHasOne()
    {
        var (exitCode, stderr) = await ServerProcess.RunToExitAsync("--Listen:NodeSocket=/tmp/metadata-proxy-never.sock");
        Assert.Equal(2, exitCode);
        Assert.Contains("Listen:NodeSocket '/tmp/metadata-proxy-never.sock': the node socket serves the node identity, which only Kubernetes mode has", stderr, StringComparison.Ordinal);
        Assert.False(File.Exists("/tmp/metadata-proxy-never.sock"));
    }

    [Fact]
    public async Task Start_WithTheNodeIdentityButNoWayToNameIt_SaysWhatToSet()
    {
        var (exitCode, stderr) = await ServerProcess.RunToExitAsync("--Mode=Kubernetes", "--Listen:NodeSocket=/tmp/metadata-proxy-never.sock");
        Assert.Equal(2, exitCode);
        Assert.Contains("needs Identity:NodeServiceAccount, or POD_NAMESPACE and POD_SERVICE_ACCOUNT from the downward API", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_WithTheServersOwnAccountButNoPod_SaysToSetPodNameAndUid()
    {
        var (exitCode, stderr) = await ServerProcess.RunToExitAsync("--Mode=Kubernetes", "--Listen:NodeSocket=/tmp/metadata-proxy-never.sock",
            "--POD_NAMESPACE=metadata-proxy", "--POD_SERVICE_ACCOUNT=metadata-proxy");
        Assert.Equal(2, exitCode);
        Assert.Contains("set POD_NAME and POD_UID from the downward API", stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--Identity:NodeServiceAccount=just-a-name", "Identity:NodeServiceAccount 'just-a-name' must be NAMESPACE/NAME")]
    [InlineData("--Identity:NodeServiceAccount=Kube_System/puller", "Identity:NodeServiceAccount 'Kube_System/puller' must be NAMESPACE/NAME")]
    [InlineData("--Listen:NodeSocket=relative/node.sock", "Listen:NodeSocket 'relative/node.sock' must be an absolute path")]
    [InlineData("--Identity:HostNetworkPolicy=Allow", "Failed to convert configuration value 'Allow' at 'Identity:HostNetworkPolicy'")]
    public async Task Start_WithABadNodeIdentitySetting_NamesIt(string argument, string problem)
    {
        var (exitCode, stderr) = await ServerProcess.RunToExitAsync("--Mode=Kubernetes", argument);
        Assert.Equal(2, exitCode);
        Assert.Contains(problem, stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_WithUnknownMode_SaysWhichModesExist()
    {
        var (exitCode, stderr) = await ServerProcess.RunToExitAsync("--Mode=Cluster");
        Assert.Equal(2, exitCode);
        Assert.Equal("configuration: Mode 'Cluster' is not one of: Standalone, Kubernetes, PullSecrets.", stderr.Trim());
    }

    [Fact]
    public async Task Start_WithMissingCredentialsFile_NamesTheFile()
    {
        var (exitCode, stderr) = await ServerProcess.RunToExitAsync("--Standalone:CredentialsFile=/nonexistent/adc.json");
        Assert.Equal(2, exitCode);
        Assert.Contains("Standalone:CredentialsFile '/nonexistent/adc.json' does not exist.", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_InKubernetesModeWithoutItsKeys_NamesEachMissingKey()
    {
        var (exitCode, stderr) = await ServerProcess.RunToExitAsync("--Mode=Kubernetes", "--Kubernetes:Kubeconfig=/nonexistent/kubeconfig", "--WorkloadIdentity:PoolId=P");
        Assert.Equal(2, exitCode);
        Assert.Contains("Kubernetes:NodeName is required in Kubernetes mode", stderr, StringComparison.Ordinal);
        Assert.Contains("Kubernetes:Kubeconfig '/nonexistent/kubeconfig' does not exist.", stderr, StringComparison.Ordinal);
        Assert.Contains("WorkloadIdentity:ProjectId is required in Kubernetes mode", stderr, StringComparison.Ordinal);
        Assert.Contains("WorkloadIdentity:ProjectNumber '' must be the pool project's number", stderr, StringComparison.Ordinal);
        Assert.Contains("WorkloadIdentity:PoolId 'P' must be a Workload Identity pool id", stderr, StringComparison.Ordinal);
        Assert.Contains("WorkloadIdentity:ProviderId '' must be a Workload Identity provider id", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_WithOutOfRangeDurations_SaysTheRange()
    {
        var (exitCode, stderr) = await ServerProcess.RunToExitAsync("--Tokens:UpstreamDeadline=00:01:00", "--Tokens:KsaTokenLifetime=00:05:00");
        Assert.Equal(2, exitCode);
        Assert.Contains("Tokens:UpstreamDeadline must be between 0 and 30 seconds", stderr, StringComparison.Ordinal);
        Assert.Contains("Tokens:KsaTokenLifetime must be between 00:10:00", stderr, StringComparison.Ordinal);
    }
}
