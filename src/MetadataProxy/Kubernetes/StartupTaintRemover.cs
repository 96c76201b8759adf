using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using MetadataProxy.Operations;
using Microsoft.Extensions.Options;

namespace MetadataProxy.Kubernetes;

/// <summary>
/// Field lesson 1: workloads must not start on a node before its metadata server can answer them. A node can be
/// created with a taint whose key starts with <c>Kubernetes:StartupTaintPrefix</c>; once every readiness check
/// passes, the server removes those taints from its own Node (a merge patch guarded by the resourceVersion).
/// </summary>
internal sealed partial class StartupTaintRemover(
    IKubernetes client,
    IEnumerable<IReadinessCheck> readiness,
    IOptions<KubernetesOptions> options,
    BackoffJitter jitter,
    TimeProvider time,
    ILogger<StartupTaintRemover> logger) : BackgroundService
{
    private readonly Backoff _backoff = new(TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(30), jitter.Next);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var prefix = options.Value.StartupTaintPrefix;
        if (string.IsNullOrEmpty(prefix))
            return;
        try
        {
            while (readiness.Any(check => check.NotReadyReason() is not null))
                await Task.Delay(TimeSpan.FromMilliseconds(500), time, stoppingToken);

            while (!await TryRemoveAsync(prefix, stoppingToken))
                await Task.Delay(_backoff.Next(), time, stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>True when no startup taint is left; false to try again (a conflict, or the API server failing).</summary>
    private async Task<bool> TryRemoveAsync(string prefix, CancellationToken cancellationToken)
    {
        var name = options.Value.NodeName!;
        try
        {
            var node = await client.CoreV1.ReadNodeAsync(name, cancellationToken: cancellationToken);
            var taints = node.Spec?.Taints ?? [];
            var ours = string.Join(", ", taints.Where(t => t.Key.StartsWith(prefix, StringComparison.Ordinal)).Select(t => t.Key));
            if (ours.Length == 0)
                return true;

            var patch = new
            {
                metadata = new { resourceVersion = node.Metadata.ResourceVersion },
                spec = new { taints = taints.Where(t => !t.Key.StartsWith(prefix, StringComparison.Ordinal)).ToList() },
            };
            await client.CoreV1.PatchNodeAsync(new V1Patch(KubernetesJson.Serialize(patch), V1Patch.PatchType.MergePatch), name, cancellationToken: cancellationToken);
            Log.Removed(logger, ours, name);
            return true;
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict)
        {
            return false; // Someone else changed the Node: read it again.
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            Log.Failed(logger, name, e.Message);
            return false;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Ready: removed startup taint(s) {Taints} from node {Node}")]
        public static partial void Removed(ILogger logger, string taints, string node);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Could not remove the startup taints from node {Node}: {Reason}")]
        public static partial void Failed(ILogger logger, string node, string reason);
    }
}
