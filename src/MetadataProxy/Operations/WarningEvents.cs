using System.Collections.Concurrent;
using System.Threading.Channels;
using k8s;
using k8s.Models;

namespace MetadataProxy.Operations;

/// <summary>
/// Warning Events about an object whose owner can fix what is wrong (a pod's refused credentials, a ServiceAccount's
/// pull Secret), written off the caller's path: <see cref="Report"/> only queues. At most one Event per object and
/// reason every <see cref="QuietPeriod"/>; one writer drains a bounded queue, each write under a deadline, so a slow
/// or unreachable API server never delays an answer or a controller pass. When the queue is full the Event is
/// dropped, counted in <c>metadata_proxy_kubernetes_events_dropped_total</c> and logged.
/// </summary>
internal sealed partial class WarningEvents : IDisposable
{
    public static readonly TimeSpan QuietPeriod = TimeSpan.FromMinutes(5);

    /// <summary>Events waiting to be written; beyond this they are dropped.</summary>
    public const int Capacity = 256;

    private const int MaxRemembered = 10_000;
    private static readonly TimeSpan WriteDeadline = TimeSpan.FromSeconds(5);

    private readonly IKubernetes _client;
    private readonly ProxyMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger<WarningEvents> _logger;
    private readonly ConcurrentDictionary<(string Uid, string Reason), DateTimeOffset> _lastReported = new();
    private readonly Channel<Corev1Event> _queue = Channel.CreateBounded<Corev1Event>(new BoundedChannelOptions(Capacity) { SingleReader = true });
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lazy<Task> _writer;

    public WarningEvents(IKubernetes client, ProxyMetrics metrics, TimeProvider time, ILogger<WarningEvents> logger)
    {
        _client = client;
        _metrics = metrics;
        _time = time;
        _logger = logger;
        _writer = new Lazy<Task>(() => Task.Run(WriteAllAsync));
    }

    /// <summary>Queues a Warning Event about <paramref name="involved"/> unless one with this reason was reported lately.</summary>
    public void Report(V1ObjectReference involved, string reason, string message, V1EventSource source, string? reportingInstance = null)
    {
        var now = _time.GetUtcNow();
        var key = (involved.Uid ?? "", reason);
        if (_lastReported.TryGetValue(key, out var last) && now - last < QuietPeriod)
            return;
        if (_lastReported.Count >= MaxRemembered)
            _lastReported.Clear();
        _lastReported[key] = now;

        var created = new Corev1Event
        {
            Metadata = new V1ObjectMeta { GenerateName = involved.Name + ".", NamespaceProperty = involved.NamespaceProperty },
            InvolvedObject = involved,
            Type = "Warning",
            Reason = reason,
            Message = message.Length > 1024 ? message[..1024] : message,
            Source = source,
            ReportingComponent = source.Component,
            ReportingInstance = reportingInstance,
            FirstTimestamp = now.UtcDateTime,
            LastTimestamp = now.UtcDateTime,
            Count = 1,
        };
        if (!_queue.Writer.TryWrite(created))
        {
            _metrics.KubernetesEventDropped();
            Log.Dropped(_logger, reason, involved.Kind, involved.NamespaceProperty, involved.Name, Capacity);
            return;
        }

        _ = _writer.Value;
    }

    private async Task WriteAllAsync()
    {
        try
        {
            await foreach (var created in _queue.Reader.ReadAllAsync(_stopping.Token))
                await WriteAsync(created);
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            // Shutting down: what is still queued is not written.
        }
    }

    private async Task WriteAsync(Corev1Event created)
    {
        var involved = created.InvolvedObject;
        try
        {
            using var deadline = new CancellationTokenSource(WriteDeadline, _time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, _stopping.Token);
            await _client.CoreV1.CreateNamespacedEventAsync(created, involved.NamespaceProperty, cancellationToken: linked.Token);
        }
        catch (Exception e) when (e is not OutOfMemoryException && !_stopping.IsCancellationRequested)
        {
            Log.Failed(_logger, created.Reason, involved.Kind, involved.NamespaceProperty, involved.Name, e.Message);
        }
    }

    /// <summary>Stops the writer; Events still queued are not written. The token source is cancelled, not disposed:
    /// the writer may still be reading it as it stops.</summary>
    public void Dispose()
    {
        _queue.Writer.TryComplete();
        _stopping.Cancel();
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "Could not record a {Reason} Event for {Kind} {Namespace}/{Name}: {Error}")]
        public static partial void Failed(ILogger logger, string reason, string kind, string @namespace, string name, string error);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Dropped a {Reason} Event for {Kind} {Namespace}/{Name}: {Capacity} Events already wait for a slow API server")]
        public static partial void Dropped(ILogger logger, string reason, string kind, string @namespace, string name, int capacity);
    }
}
