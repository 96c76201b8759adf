using System.Diagnostics;
using MetadataProxy.FunctionalTests.Infrastructure;

namespace MetadataProxy.FunctionalTests.Hardening;

/// <summary>Issue 9, row 5: SIGTERM answers every wait_for_change at once with the current value, and the process is gone within 2 s.</summary>
public sealed class ShutdownTests
{
    private static readonly Dictionary<string, string> CleanMachine = new()
    {
        ["HOME"] = Path.GetTempPath(),
        ["GCE_METADATA_HOST"] = "127.0.0.1:9", // ADC's own metadata probe fails at once
    };

    [Fact]
    public async Task Sigterm_AnswersWaitersWithTheCurrentValue_AndExitsWithinTwoSeconds()
    {
        const int Waiters = 8;
        await using var server = await ServerProcess.StartAsync(CleanMachine, "--Metadata:ProjectId=test-project",
            "--Logging:LogLevel:Microsoft.AspNetCore.Hosting.Diagnostics=Information"); // "Request starting" tells when the waiters are in
        using var client = ProxyServer.CreateClient(server.MetadataUri, source: null);
        var (current, _) = await client.GetWithBodyAsync("/computeMetadata/v1/project/project-id");
        var waiters = Enumerable.Range(0, Waiters)
            .Select(_ => client.GetWithBodyAsync("/computeMetadata/v1/project/project-id?wait_for_change=true"))
            .ToArray();
        await Kubernetes.KubernetesLab.WaitUntilAsync(() =>
            Task.FromResult(server.Output.Split('\n').Count(l => l.Contains("Request starting", StringComparison.Ordinal) && l.Contains("wait_for_change", StringComparison.Ordinal)) == Waiters));
        Assert.All(waiters, w => Assert.False(w.IsCompleted)); // W-2: nothing changed, so they hang

        var signalled = Stopwatch.StartNew();
        await server.TerminateAsync();
        var answers = await Task.WhenAll(waiters).WaitAsync(TimeSpan.FromSeconds(1), TestContext.Current.CancellationToken);
        var exitCode = await server.ExitCodeAsync(TimeSpan.FromSeconds(2));

        Assert.All(answers, answer =>
        {
            Assert.Equal(HttpStatusCode.OK, answer.Response.StatusCode);
            Assert.Equal("test-project", answer.Body);
            Assert.Equal(current.Single("ETag"), answer.Response.Single("ETag"));
        });
        Assert.Equal(0, exitCode);
        Assert.InRange(signalled.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(2));
        Assert.DoesNotContain("fail:", server.Output, StringComparison.Ordinal);
    }
}
