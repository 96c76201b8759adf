using k8s;
using k8s.Models;
using MetadataProxy.FunctionalTests.Infrastructure;
using MetadataProxy.Identity;
using MetadataProxy.Kubernetes;
using MetadataProxy.Metadata;
using MetadataProxy.Node;
using MetadataProxy.Operations;
using MetadataProxy.Pods;
using MetadataProxy.ServiceAccounts;
using MetadataProxy.TestServers.Kubernetes;
using Microsoft.Extensions.Logging.Abstractions;

namespace MetadataProxy.FunctionalTests.Kubernetes;

/// <summary>
/// The pod informer alone, with the real KubernetesClient against the Kubernetes test server over loopback HTTP, and
/// every wait of the informer (back-off, Retry-After, the watch's silence limit) on a <see cref="RecordingClock"/>.
/// The test server keeps real time and sends no bookmarks of its own, so the informer hears only what a test makes.
/// </summary>
internal sealed class InformerRig : IAsyncDisposable
{
    public const string NodeName = "node-a";

    private readonly Prometheus.CollectorRegistry _registry = Prometheus.Metrics.NewCustomRegistry();

    private InformerRig(KubernetesTestServer kube, KubernetesOptions options, double jitter)
    {
        Kube = kube;
        Options = options;
        Jitter = new BackoffJitter(() => jitter);
        Metrics = new ProxyMetrics(_registry);
        Client = new k8s.Kubernetes(kube.ClientConfiguration());
        Informer = new PodInformer(Client, Index, Microsoft.Extensions.Options.Options.Create(options), new PodEvents(), Jitter,
            Clock, Metrics, NullLogger<PodInformer>.Instance);
    }

    public ProxyMetrics Metrics { get; }

    public RecordingClock Clock { get; } = new();

    public KubernetesTestServer Kube { get; }

    public KubernetesOptions Options { get; }

    public IKubernetes Client { get; }

    public PodIndex Index { get; } = new();

    public PodInformer Informer { get; }

    /// <summary>The live List behind the last <see cref="Resolver"/> made.</summary>
    public PodLister? Lister { get; private set; }

    /// <summary>The jitter of every back-off in the rig (the informer's, the ServiceAccount cache's).</summary>
    public BackoffJitter Jitter { get; }

    /// <summary>The ServiceAccount cache of the last <see cref="Resolver"/> made.</summary>
    public ServiceAccountCache? Accounts { get; private set; }

    /// <summary>The silence limit: a timer of this due time is the watch's liveness check, any other a wait between attempts.</summary>
    public TimeSpan SilenceLimit => 2 * Options.WatchBookmarkInterval;

    public static async Task<InformerRig> StartServerAsync(double jitter = 1.0, TimeSpan? reconnectDelayMax = null)
    {
        var kube = await KubernetesTestServer.StartAsync(TestContext.Current.CancellationToken);
        kube.BookmarkInterval = TimeSpan.FromHours(1); // no bookmark arrives during a test unless the test makes one
        return new InformerRig(kube, new KubernetesOptions
        {
            NodeName = NodeName,
            WatchBookmarkInterval = TimeSpan.FromMinutes(1),
            ReconnectDelayMax = reconnectDelayMax ?? TimeSpan.FromSeconds(3),
        }, jitter);
    }

    /// <summary>The caller resolver over this informer, its index and the test server, every wait on the same clock.</summary>
    public KubernetesCallerResolver Resolver(IdentityOptions identity)
    {
        var kubernetes = Microsoft.Extensions.Options.Options.Create(Options);
        var identityOptions = Microsoft.Extensions.Options.Options.Create(identity);
        var limiter = new KubernetesCallLimiter(identityOptions);
        var accounts = Accounts = new ServiceAccountCache(Client, limiter, identityOptions, Clock, Jitter, new MetadataChangeNotifier(), NullLogger<ServiceAccountCache>.Instance);
        var node = new NodeInfo();
        Lister = new PodLister(Client, Index, limiter, kubernetes, Clock);
        return new KubernetesCallerResolver(Index, Informer, Lister, accounts, node,
            new NodeIdentity(accounts, Microsoft.Extensions.Options.Options.Create(new NodeIdentityOptions()), node, kubernetes),
            identityOptions, kubernetes, Clock, Metrics, new RefusalEvents(new WarningEvents(Client, Metrics, Clock, NullLogger<WarningEvents>.Instance), kubernetes),
            NullLogger<KubernetesCallerResolver>.Instance);
    }

    /// <summary>The current value of one series of the informer's metrics (0 when absent), as /metrics would show it.</summary>
    public async Task<double> MetricAsync(string series)
    {
        using var text = new MemoryStream();
        await _registry.CollectAndExportAsTextAsync(text, TestContext.Current.CancellationToken);
        var line = System.Text.Encoding.UTF8.GetString(text.ToArray()).Split('\n').FirstOrDefault(l => l.StartsWith(series + " ", StringComparison.Ordinal));
        return line is null ? 0 : double.Parse(line[(series.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }

    public Task StartInformerAsync() => Informer.StartAsync(TestContext.Current.CancellationToken);

    public V1Pod AddPod(string name, string ip)
    {
        try
        {
            Kube.AddServiceAccount(new V1ServiceAccount { Metadata = new V1ObjectMeta { Name = "app", NamespaceProperty = "clock" } });
        }
        catch (InvalidOperationException)
        {
            // Already there: every pod of the rig runs as clock/app.
        }

        return Kube.AddPod(new V1Pod
        {
            Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "clock" },
            Spec = new V1PodSpec { NodeName = NodeName, ServiceAccountName = "app", Containers = [new V1Container { Name = "app", Image = "app:1" }] },
            Status = new V1PodStatus { Phase = "Running", PodIP = ip, PodIPs = [new V1PodIP { Ip = ip }] },
        });
    }

    /// <summary>
    /// Waits until the informer has parked on its next wait between attempts (the <paramref name="after"/>-th timer or
    /// later that is not a silence limit) and returns its length; polling a condition, never sleeping on a guess.
    /// </summary>
    public async Task<(TimeSpan Delay, int Count)> NextDelayAsync(int after)
    {
        TimeSpan? found = null;
        var count = after;
        await KubernetesLab.WaitUntilAsync(() =>
        {
            var due = Clock.DueTimes;
            for (var i = after; i < due.Count; i++)
            {
                if (due[i] != SilenceLimit)
                {
                    (found, count) = (due[i], i + 1);
                    return Task.FromResult(true);
                }
            }

            return Task.FromResult(false);
        });
        return (found!.Value, count);
    }

    public async ValueTask DisposeAsync()
    {
        await Informer.StopAsync(CancellationToken.None);
        Informer.Dispose();
        Client.Dispose();
        await Kube.DisposeAsync();
    }
}
