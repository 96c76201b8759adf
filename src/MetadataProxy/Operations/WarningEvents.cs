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
/// dropped, counted in <c>metadata_proxy_kubernetes_events_dropped_total</c> and logged. The quiet period starts when
/// an Event is queued, not when it is reported: a dropped Event does not silence the next one. At shutdown the writer
/// ends whatever its last write threw, and the Events still queued are counted as dropped and logged once.
/// </summary>
internal sealed partial class WarningEvents : IDisposable, IAsyncDisposable
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

    /// <summary>Queues a Warning Event about <paramref name="involved"/> unless one with this reason was queued lately.</summary>
    public void Report(V1ObjectReference involved, string reason, string message, V1EventSource source, string? reportingInstance = null)
    {
        var now = _time.GetUtcNow();
        var key = (involved.Uid ?? "", reason);
        if (!Reserve(key, now))
            return;

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
            // Not queued, so not sent: the quiet period it reserved is given back, and the next report may queue.
            _lastReported.TryRemove(KeyValuePair.Create(key, now));
            _metrics.KubernetesEventDropped();
            if (!_stopping.IsCancellationRequested) // at shutdown the writer says once what was not written
                Log.Dropped(_logger, reason, involved.Kind, involved.NamespaceProperty, involved.Name, Capacity);
            return;
        }

        _ = _writer.Value;
    }

    /// <summary>
    /// Starts the quiet period of <paramref name="key"/> at <paramref name="now"/> unless it is running; false when it
    /// is (or a concurrent report has just started it: one Event, not two).
    /// </summary>
    private bool Reserve((string Uid, string Reason) key, DateTimeOffset now)
    {
        if (_lastReported.TryGetValue(key, out var last))
            return now - last >= QuietPeriod && _lastReported.TryUpdate(key, now, last);
        if (_lastReported.Count >= MaxRemembered)
            _lastReported.Clear();
        return _lastReported.TryAdd(key, now);
    }

    private async Task WriteAllAsync()
    {
        try
        {
            // Not ReadAllAsync: it hands out what is queued without looking at the token again, and what it took is lost.
            while (!_stopping.IsCancellationRequested && await _queue.Reader.WaitToReadAsync(_stopping.Token))
            {
                while (!_stopping.IsCancellationRequested && _queue.Reader.TryRead(out var created))
                    await WriteAsync(created);
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            // Shutting down.
        }

        // Reached only when stopping (the queue is completed only then); no Event can be queued any more.
        var left = 0;
        while (_queue.Reader.TryRead(out _))
        {
            left++;
            _metrics.KubernetesEventDropped();
        }

        if (left > 0)
            Log.NotWritten(_logger, left);
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
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // At shutdown a write may end in anything (a cancellation, the API server's answer as it goes away, a
            // disposed client): it is not written, and the writer stops without a fault.
            if (!_stopping.IsCancellationRequested)
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

    /// <summary>Stops the writer and waits for it to end (its write in flight is cancelled), so what it left is counted before the host exits.</summary>
    public async ValueTask DisposeAsync()
    {
        Dispose();
        if (_writer.IsValueCreated)
            await _writer.Value;
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "Could not record a {Reason} Event for {Kind} {Namespace}/{Name}: {Error}")]
        public static partial void Failed(ILogger logger, string reason, string kind, string @namespace, string name, string error);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Stopping: {Count} Warning Events still queued were not written")]
        public static partial void NotWritten(ILogger logger, int count);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Dropped a {Reason} Event for {Kind} {Namespace}/{Name}: {Capacity} Events already wait for a slow API server")]
        public static partial void Dropped(ILogger logger, string reason, string kind, string @namespace, string name, int capacity);
    }
}
