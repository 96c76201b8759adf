using MetadataProxy.FunctionalTests.Infrastructure;
using MetadataProxy.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace MetadataProxy.FunctionalTests.PullSecrets;

/// <summary>Issue 13: <c>Mode=PullSecrets</c> is its own role — its own keys checked at start, no metadata API, no pod informer.</summary>
public sealed class PullSecretsModeTests
{
    [Fact]
    public void Start_WithoutItsKeys_NamesEachMissingKey_AndAsksForNoNode()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Mode"] = "PullSecrets",
            ["Listen:Admin"] = "http://127.0.0.1:0",
            ["Kubernetes:Kubeconfig"] = "/nonexistent/kubeconfig",
            ["PullSecrets:LeaseDuration"] = "00:00:05",
        };

        var failure = Assert.ThrowsAny<Exception>(() => Program.Build([], builder => builder.Add(new TestConfigurationSource(settings))));

        var problems = ConfigurationProblems.From(failure);
        Assert.Contains(problems, p => p.StartsWith("PullSecrets:Namespace is required in PullSecrets mode", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("PullSecrets:Identity is required in PullSecrets mode", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("PullSecrets:RenewDeadline 00:00:10 must be longer than PullSecrets:RetryPeriod (00:00:02) and, with it, shorter than PullSecrets:LeaseDuration (00:00:05)", StringComparison.Ordinal));
        Assert.Contains("Kubernetes:Kubeconfig '/nonexistent/kubeconfig' does not exist.", problems);
        Assert.Contains(problems, p => p.StartsWith("WorkloadIdentity:ProjectId is required", StringComparison.Ordinal));
        Assert.DoesNotContain(problems, p => p.Contains("NodeName", StringComparison.Ordinal) || p.Contains("Listen:Metadata", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Running_ServesOnlyTheOperationsPort_AndNeverWatchesPods()
    {
        await using var lab = await PullSecretsLab.StartAsync();
        var replica = await lab.StartReplicaAsync("replica-a");
        await lab.SettleAsync();

        Assert.Empty(replica.Services.GetRequiredService<Listeners>().Metadata);
        using var admin = new HttpClient { BaseAddress = replica.AdminUri };
        using var ready = await admin.GetAsync("/readyz", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal("ready\n", await ready.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        var metrics = await admin.GetStringAsync("/metrics", TestContext.Current.CancellationToken);
        Assert.Contains("metadata_proxy_pull_secrets{state=\"current\"} 0", metrics, StringComparison.Ordinal);
        Assert.Equal((0, 0), (lab.Kube.PodListCalls, lab.Kube.PodWatchCalls));
    }
}
