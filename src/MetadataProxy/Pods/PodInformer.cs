using k8s;
using MetadataProxy.Kubernetes;
using MetadataProxy.Operations;
using Microsoft.Extensions.Options;

namespace MetadataProxy.Pods;

/// <summary>
/// Keeps <see cref="PodIndex"/> equal to the pods on this node: list, then watch from the list's resourceVersion
/// with bookmarks; a 410 relists, a broken stream resumes from the last resourceVersion after a jittered back-off.
/// The logic follows YARP's ResourceInformer; KubernetesClient has no informer of its own.
/// </summary>
internal sealed partial class PodInformer(
    IKubernetes client,
    PodIndex index,
    IOptions<KubernetesOptions> options,
    PodEvents events,
    TimeProvider time,
    ProxyMetrics metrics,
    ILogger<PodInformer> logger) : BackgroundService, IReadinessCheck
{
    /// <summary>Server-side watch timeout: a healthy watch ends and is resumed at least this often.</summary>
    private const int WatchTimeoutSeconds = 300;

    private readonly Backoff _backoff = new(TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(30), Random.Shared.NextDouble);
    private volatile bool _synced;
    private volatile bool _current;
    private long _lastEventTicks;

    public bool Synced => _synced;

    /// <summary>
    /// True while the index follows a live watch; false from a failure until the next list or watch event, when a
    /// pod may have gone and its address been reused without the index knowing.
    /// </summary>
    public bool Current => _current;

    /// <summary>When the informer last heard from the API server (an event, a bookmark or a list).</summary>
    public DateTimeOffset? LastContact => Interlocked.Read(ref _lastEventTicks) is var t and > 0 ? new DateTimeOffset(t, TimeSpan.Zero) : null;

    public string? NotReadyReason() => _synced ? null : "the pod index has not completed its first list of this node's pods";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        metrics.ObservePodInformer(() => LastContact is { } last ? time.GetUtcNow() - last : null);
        var selector = $"spec.nodeName={options.Value.NodeName}";
        string? resourceVersion = null;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (resourceVersion is null)
                {
                    var list = await client.CoreV1.ListPodForAllNamespacesAsync(fieldSelector: selector, cancellationToken: stoppingToken);
                    index.ReplaceAll(list.Items.Select(PodRecords.From));
                    resourceVersion = list.Metadata.ResourceVersion;
                    Touch();
                    _synced = true;
                    _current = true;
                    metrics.PodIndexRelisted(index.Count);
                    events.Listed(index.All);
                    Log.Listed(logger, index.Count, resourceVersion);
                }

                resourceVersion = await WatchAsync(selector, resourceVersion, stoppingToken);
                if (resourceVersion is null)
                {
                    _current = false;
                    Log.Expired(logger);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                // Any failure (HTTP, a client-side timeout, a bad payload) is retried: a background loop must never stop the host.
                _current = false;
                metrics.PodWatchFailed();
                var delay = _backoff.Next();
                Log.Failed(logger, e.Message, delay.TotalSeconds);
                await Task.Delay(delay, time, stoppingToken);
            }
        }
    }

    /// <summary>Applies watch events until the stream ends; returns where to resume, or null to relist (410).</summary>
    private async Task<string?> WatchAsync(string selector, string resourceVersion, CancellationToken stoppingToken)
    {
        KubernetesException? error = null;
        var stream = client.CoreV1.WatchListPodForAllNamespacesAsync(
            allowWatchBookmarks: true,
            fieldSelector: selector,
            resourceVersion: resourceVersion,
            timeoutSeconds: WatchTimeoutSeconds,
            onError: e => error ??= e as KubernetesException ?? new KubernetesException(e.Message, e),
            cancellationToken: stoppingToken);
        await foreach (var (type, pod) in stream)
        {
            Touch();
            _current = true;
            _backoff.Reset();
            switch (type)
            {
                case WatchEventType.Added or WatchEventType.Modified:
                    var record = PodRecords.From(pod);
                    index.Upsert(record);
                    events.Changed(record);
                    break;
                case WatchEventType.Deleted:
                    index.Remove(pod.Metadata.Uid);
                    break;
            }

            metrics.PodWatchEvent(type.ToString());
            metrics.PodIndexSize(index.Count);
            resourceVersion = pod.Metadata?.ResourceVersion ?? resourceVersion;
        }

        if (error is { Status.Code: 410 })
            return null; // Expired: the history we would resume from is gone.
        if (error is not null)
            throw error; // Any other ERROR event: back off, then resume.
        return resourceVersion;
    }

    private void Touch() => Interlocked.Exchange(ref _lastEventTicks, time.GetUtcNow().UtcTicks);

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Listed {Count} pods on this node at resourceVersion {ResourceVersion}")]
        public static partial void Listed(ILogger logger, int count, string resourceVersion);

        [LoggerMessage(Level = LogLevel.Information, Message = "Pod watch expired (410); relisting")]
        public static partial void Expired(ILogger logger);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Pod list/watch failed: {Reason}; retrying in {DelaySeconds:0.0} s")]
        public static partial void Failed(ILogger logger, string reason, double delaySeconds);
    }
}
