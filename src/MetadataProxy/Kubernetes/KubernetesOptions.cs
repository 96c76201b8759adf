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
}
