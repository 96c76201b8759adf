using System.Collections.Immutable;
using System.Net;
using k8s;
using k8s.Models;
using MetadataProxy.Metadata;
using Microsoft.Extensions.Options;

namespace MetadataProxy.Kubernetes;

/// <summary>Reads this node's Node object at start and every few minutes into <see cref="NodeInfo"/>; a failed read keeps what was known.</summary>
internal sealed partial class NodeReader(
    NodeInfo info,
    IKubernetes client,
    IOptions<KubernetesOptions> options,
    MetadataTreeSource trees,
    IOptionsMonitorCache<MetadataOptions> metadataCache,
    TimeProvider time,
    ILogger<NodeInfo> logger) : BackgroundService
{
    private static readonly TimeSpan RefreshInterval = TimeSpan.FromMinutes(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var node = await client.CoreV1.ReadNodeAsync(options.Value.NodeName, cancellationToken: stoppingToken);
                var facts = From(node);
                if (facts != info.Facts)
                {
                    info.Facts = facts;
                    metadataCache.TryRemove(Options.DefaultName); // re-run the post-configuration that reads these facts
                    trees.Rebuild();
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                // A background loop must never stop the host: log, keep what was known, try again later.
                Log.ReadFailed(logger, options.Value.NodeName!, e.Message);
            }

            await Task.Delay(info.Facts.Zone is null && info.Facts.Addresses.IsEmpty ? TimeSpan.FromSeconds(5) : RefreshInterval, time, stoppingToken);
        }
    }

    internal static NodeFacts From(V1Node node)
    {
        var addresses = (node.Status?.Addresses ?? [])
            .Select(a => IPAddress.TryParse(a.Address, out var ip) ? ip : null)
            .OfType<IPAddress>()
            .ToImmutableHashSet();
        var labels = node.Metadata.Labels ?? new Dictionary<string, string>();
        // Only a GCE-shaped zone can stand in instance/zone (I-2); EKS's us-east-1a or an on-premises label cannot.
        var zone = labels.TryGetValue(NodeInfo.ZoneLabel, out var z) && MetadataOptionsValidator.IsZone(z) ? z : null;
        return new NodeFacts(addresses, zone, labels.TryGetValue(NodeInfo.HostnameLabel, out var host) ? host : null, node.Metadata.Uid);
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "Could not read Node {Node}: {Reason}")]
        public static partial void ReadFailed(ILogger logger, string node, string reason);
    }
}
