using System.Globalization;

namespace MetadataProxy.EndToEnd.Server;

/// <summary>
/// Issue 10, point 4: an upgrade as the DaemonSet's surge rollout does it on one node. The new server starts beside the
/// old one on the same addresses, the old one gets SIGTERM once the new one is ready, and a pod asking without pause
/// through the node's DNAT, on keep-alive and on new connections, sees no failed request at all.
/// </summary>
public sealed class UpgradeTests
{
    private const string Waitable = "http://169.254.169.254/computeMetadata/v1/project/project-id?wait_for_change=true&timeout_sec=60";

    [Fact]
    public async Task Upgrade_NewServerBesideTheOldThenSigterm_NoRequestFailsAndTheNewServerServes()
    {
        // Pods in 198.51.100.128/26 (.141 to .143), namespaces mpxup-*.
        await using var lab = new ServerLab { NamespacePrefix = "mpxup", PodAddressBase = 140 };
        await lab.InitializeAsync();
        lab.SkipUnlessBuilt();
        // Per network namespace: the queue of a closing listener moves to the other one (README, Upgrades).
        (await lab.Lab.ExecAsync(lab.Lab.NodeNamespace, "sysctl", "-qw", "net.ipv4.tcp_migrate_req=1")).EnsureSuccess();
        var old = lab.Server;
        await using var client = ContinuousClient.Start(lab.Lab, lab.Writer.Namespace, ServerLab.WriterGsa, loops: 3);
        await client.WaitForAnswersAsync(100, TimeSpan.FromSeconds(60));
        // A wait_for_change held on the old server (the only one yet): SIGTERM answers it at once, with the current value.
        using var waiter = lab.Lab.CreateHttpClient(lab.Writer.Namespace);
        waiter.DefaultRequestHeaders.Add("Metadata-Flavor", "Google");
        var waiting = waiter.GetAsync(new Uri(Waitable), TestContext.Current.CancellationToken);
        await client.WaitForAnswersAsync(50, TimeSpan.FromSeconds(60));
        Assert.False(waiting.IsCompleted, "the wait_for_change should still be waiting");

        // Ready means the new server itself answered /readyz: the old one answers 503 once the new one has bound beside it.
        client.Mark("starting the new server");
        var next = await lab.StartServerAsync(TestContext.Current.CancellationToken);
        client.Mark("the new server is ready");
        await client.WaitForAnswersAsync(200, TimeSpan.FromSeconds(60));
        client.Mark("SIGTERM to the old server");
        var exitCode = await old.StopAsync(TimeSpan.FromSeconds(20));
        client.Mark("the old server has exited");
        using var waited = await waiting.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);
        var afterOld = client.Answers;
        await client.WaitForAnswersAsync(300, TimeSpan.FromSeconds(60));
        await client.DisposeAsync();

        Assert.True(exitCode == 0, $"the old server should stop cleanly on SIGTERM, exited {exitCode}:\n{old.Output}");
        Assert.True(client.Failures.Count == 0,
            $"{client.Failures.Count} of {client.Answers + client.Failures.Count} requests failed:\n{string.Join("\n", client.Failures.Take(10))}\n"
            + $"timeline:\n{string.Join("\n", client.Timeline)}\nold server:\n{old.Output}\nnew server:\n{next.Output}");
        Assert.True(client.KeepAliveAnswers > 0 && client.FreshAnswers > 0, $"keep-alive {client.KeepAliveAnswers}, fresh {client.FreshAnswers}");
        Assert.Equal((HttpStatusCode.OK, ServerLab.ProjectId), (waited.StatusCode, await waited.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)));
        // The old server is gone: the admin port is the new one's, and it answered the requests that came after.
        Assert.False(next.HasExited, next.Output);
        Assert.True(await AnsweredOkAsync(lab) >= client.Answers - afterOld, $"the new server should have answered at least the {client.Answers - afterOld} requests after the old one left");
    }

    // metadata_proxy_requests_total{outcome="ok",...} summed, from the (only remaining) server's /metrics.
    private static async Task<double> AnsweredOkAsync(ServerLab lab)
    {
        using var admin = lab.Lab.CreateHttpClient(lab.Lab.NodeNamespace);
        var metrics = await admin.GetStringAsync(new Uri($"http://127.0.0.1:{ServerLab.AdminPort}/metrics"), TestContext.Current.CancellationToken);
        return metrics.Split('\n')
            .Where(line => line.StartsWith("metadata_proxy_requests_total{", StringComparison.Ordinal) && line.Contains("outcome=\"ok\"", StringComparison.Ordinal))
            .Sum(line => double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));
    }
}
