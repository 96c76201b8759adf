using k8s.Models;
using MetadataProxy.FunctionalTests.Infrastructure;
using MetadataProxy.Kubernetes;
using MetadataProxy.Operations;
using MetadataProxy.TestServers.Kubernetes;
using Microsoft.Extensions.Logging.Abstractions;

namespace MetadataProxy.FunctionalTests.Kubernetes;

/// <summary>
/// Field lesson 1 on a fake clock: the startup taint remover waits for readiness in 500 ms steps and retries a failing
/// API server with a back-off whose jitter is the injected one, so each wait is known to the millisecond.
/// </summary>
public sealed class StartupTaintClockTests
{
    private const string NodeName = "node-a";
    private const string StartupTaint = "metadataproxy.io/agent-not-ready";
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(1);

    [Fact]
    public async Task NotReady_TaintStaysUntilTheReadinessPollAfterReadiness()
    {
        await using var kube = await StartServerAsync();
        var clock = new RecordingClock();
        var readiness = new Switch();
        using var remover = Remover(kube, clock, readiness, jitter: 1.0);
        await remover.StartAsync(TestContext.Current.CancellationToken);

        await KubernetesLab.WaitUntilAsync(() => Task.FromResult(clock.DueTimes.Count == 1));
        Assert.Equal(TimeSpan.FromMilliseconds(500), clock.DueTimes[0]);
        clock.Advance(TimeSpan.FromMilliseconds(500)); // still not ready: another poll
        await KubernetesLab.WaitUntilAsync(() => Task.FromResult(clock.DueTimes.Count == 2));

        readiness.Ready = true;
        clock.Advance(TimeSpan.FromMilliseconds(500) - Tick);
        Assert.Equal(0, kube.NodeGets);
        clock.Advance(Tick);
        await KubernetesLab.WaitUntilAsync(() => Task.FromResult(!HasStartupTaint(kube)));
        Assert.Equal(["example.com/dedicated"], kube.GetNode(NodeName)!.Spec.Taints.Select(t => t.Key));
        Assert.Equal(1, kube.NodePatches);
        await remover.StopAsync(TestContext.Current.CancellationToken);
    }

    [Theory]
    [InlineData(1.0, new[] { 0.5, 1.0, 2.0, 4.0 })]
    [InlineData(0.0, new[] { 0.25, 0.5, 1.0, 2.0 })]
    public async Task ApiServerDown_RetriesWithTheInjectedJitter_AndRemovesTheTaintWhenBack(double jitter, double[] seconds)
    {
        await using var kube = await StartServerAsync();
        kube.GoDown();
        var clock = new RecordingClock();
        using var remover = Remover(kube, clock, new Switch { Ready = true }, jitter);
        await remover.StartAsync(TestContext.Current.CancellationToken);

        for (var i = 0; i < seconds.Length; i++)
        {
            var attempts = i + 1;
            await KubernetesLab.WaitUntilAsync(() => Task.FromResult(clock.DueTimes.Count == attempts));
            Assert.Equal(TimeSpan.FromSeconds(seconds[i]), clock.DueTimes[i]);
            if (i == seconds.Length - 1)
                kube.ComeUp();
            clock.Advance(clock.DueTimes[i] - Tick);
            Assert.Equal(attempts, clock.DueTimes.Count); // parked until its wait is over
            Assert.Equal(0, kube.NodePatches);
            clock.Advance(Tick);
        }

        await KubernetesLab.WaitUntilAsync(() => Task.FromResult(!HasStartupTaint(kube)));
        Assert.Equal(1, kube.NodePatches);
        await remover.StopAsync(TestContext.Current.CancellationToken);
    }

    private static bool HasStartupTaint(KubernetesTestServer kube) => kube.GetNode(NodeName)!.Spec.Taints.Any(t => t.Key == StartupTaint);

    private static async Task<KubernetesTestServer> StartServerAsync()
    {
        var kube = await KubernetesTestServer.StartAsync(TestContext.Current.CancellationToken);
        kube.AddNode(new V1Node
        {
            Metadata = new V1ObjectMeta { Name = NodeName },
            Spec = new V1NodeSpec
            {
                Taints =
                [
                    new V1Taint { Key = StartupTaint, Effect = "NoSchedule" },
                    new V1Taint { Key = "example.com/dedicated", Value = "ml", Effect = "NoSchedule" },
                ],
            },
        });
        return kube;
    }

    private static StartupTaintRemover Remover(KubernetesTestServer kube, RecordingClock clock, IReadinessCheck readiness, double jitter) =>
        new(new k8s.Kubernetes(kube.ClientConfiguration()), [readiness], Microsoft.Extensions.Options.Options.Create(new KubernetesOptions { NodeName = NodeName }),
            new BackoffJitter(() => jitter), clock, NullLogger<StartupTaintRemover>.Instance);

    private sealed class Switch : IReadinessCheck
    {
        public volatile bool Ready;

        public string? NotReadyReason() => Ready ? null : "not yet";
    }
}
