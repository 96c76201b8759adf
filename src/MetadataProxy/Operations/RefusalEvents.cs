using System.Collections.Concurrent;
using k8s;
using k8s.Models;
using MetadataProxy.Kubernetes;
using Microsoft.Extensions.Options;

namespace MetadataProxy.Operations;

/// <summary>
/// A Warning Event on the pod when the server refuses it for a reason its owner can fix (a bad annotation, a
/// missing binding, a duplicated IP), so `kubectl describe pod` says why its credentials fail. At most one Event per
/// pod and reason every few minutes; writing one never delays or changes an answer.
/// </summary>
internal sealed partial class RefusalEvents(
    IKubernetes client,
    IOptions<KubernetesOptions> options,
    TimeProvider time,
    ILogger<RefusalEvents> logger)
{
    public static readonly TimeSpan QuietPeriod = TimeSpan.FromMinutes(5);

    private const int MaxRemembered = 10_000;
    private readonly ConcurrentDictionary<(string PodUid, string Reason), DateTimeOffset> _lastReported = new();

    public void Report(string ns, string podName, string podUid, string reason, string message)
    {
        var now = time.GetUtcNow();
        var key = (podUid, reason);
        if (_lastReported.TryGetValue(key, out var last) && now - last < QuietPeriod)
            return;
        if (_lastReported.Count >= MaxRemembered)
            _lastReported.Clear();
        _lastReported[key] = now;
        _ = CreateAsync(ns, podName, podUid, reason, message, now);
    }

    private async Task CreateAsync(string ns, string podName, string podUid, string reason, string message, DateTimeOffset now)
    {
        var node = options.Value.NodeName;
        var created = new Corev1Event
        {
            Metadata = new V1ObjectMeta { GenerateName = podName + ".", NamespaceProperty = ns },
            InvolvedObject = new V1ObjectReference { ApiVersion = "v1", Kind = "Pod", Name = podName, NamespaceProperty = ns, Uid = podUid },
            Type = "Warning",
            Reason = reason,
            Message = message.Length > 1024 ? message[..1024] : message,
            Source = new V1EventSource { Component = "metadata-proxy", Host = node },
            ReportingComponent = "metadata-proxy",
            ReportingInstance = node,
            FirstTimestamp = now.UtcDateTime,
            LastTimestamp = now.UtcDateTime,
            Count = 1,
        };
        try
        {
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(5), time);
            await client.CoreV1.CreateNamespacedEventAsync(created, ns, cancellationToken: deadline.Token);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Log.Failed(logger, reason, ns, podName, e.Message);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "Could not record a {Reason} Event for pod {Namespace}/{Pod}: {Error}")]
        public static partial void Failed(ILogger logger, string reason, string @namespace, string pod, string error);
    }
}
