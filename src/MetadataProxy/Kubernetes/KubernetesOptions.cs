namespace MetadataProxy.Kubernetes;

internal sealed class KubernetesOptions
{
    public const string Section = "Kubernetes";

    /// <summary>This node, from the downward API (<c>spec.nodeName</c>); the NODE_NAME variable is accepted too.</summary>
    public string? NodeName { get; set; }

    /// <summary>A kubeconfig path; empty: in-cluster configuration, then $KUBECONFIG, then ~/.kube/config.</summary>
    public string? Kubeconfig { get; set; }

    /// <summary>Taints with this key prefix are removed from the node once the server is ready; empty disables it.</summary>
    public string? StartupTaintPrefix { get; set; } = "metadataproxy.io/";

    /// <summary>
    /// How often the API server is expected to send a watch bookmark (kube-apiserver: about once a minute). No event
    /// or bookmark for twice this long means the watch is silent: the index is no longer current and the watch restarts.
    /// </summary>
    public TimeSpan WatchBookmarkInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>The longest jittered wait before the pod watch reconnects, so it resumes promptly after an outage.</summary>
    public TimeSpan ReconnectDelayMax { get; set; } = TimeSpan.FromSeconds(3);
}
