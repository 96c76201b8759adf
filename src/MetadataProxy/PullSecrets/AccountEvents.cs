using System.Collections.Concurrent;
using k8s;
using k8s.Models;

namespace MetadataProxy.PullSecrets;

/// <summary>
/// A Warning Event on the ServiceAccount when its pull Secret is refused for a reason its owner can fix, so
/// <c>kubectl describe serviceaccount</c> says why. At most one per account and reason every few minutes.
/// </summary>
internal sealed partial class AccountEvents(IKubernetes client, TimeProvider time, ILogger<AccountEvents> logger)
{
    public static readonly TimeSpan QuietPeriod = TimeSpan.FromMinutes(5);

    private const int MaxRemembered = 10_000;
    private readonly ConcurrentDictionary<(string Uid, string Reason), DateTimeOffset> _lastReported = new();

    public async Task WarnAsync(V1ServiceAccount account, string reason, string message, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var key = (account.Metadata.Uid ?? "", reason);
        if (_lastReported.TryGetValue(key, out var last) && now - last < QuietPeriod)
            return;
        if (_lastReported.Count >= MaxRemembered)
            _lastReported.Clear();
        _lastReported[key] = now;

        var ns = account.Metadata.NamespaceProperty;
        var created = new Corev1Event
        {
            Metadata = new V1ObjectMeta { GenerateName = account.Metadata.Name + ".", NamespaceProperty = ns },
            InvolvedObject = new V1ObjectReference { ApiVersion = "v1", Kind = "ServiceAccount", Name = account.Metadata.Name, NamespaceProperty = ns, Uid = account.Metadata.Uid },
            Type = "Warning",
            Reason = reason,
            Message = message.Length > 1024 ? message[..1024] : message,
            Source = new V1EventSource { Component = "metadata-proxy-pull-secrets" },
            ReportingComponent = "metadata-proxy-pull-secrets",
            FirstTimestamp = now.UtcDateTime,
            LastTimestamp = now.UtcDateTime,
            Count = 1,
        };
        try
        {
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(5), time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, cancellationToken);
            await client.CoreV1.CreateNamespacedEventAsync(created, ns, cancellationToken: linked.Token);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Log.Failed(logger, reason, ns, account.Metadata.Name, e.Message);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "Could not record a {Reason} Event for ServiceAccount {Namespace}/{Name}: {Error}")]
        public static partial void Failed(ILogger logger, string reason, string @namespace, string name, string error);
    }
}
