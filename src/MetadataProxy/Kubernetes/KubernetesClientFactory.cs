using k8s;

namespace MetadataProxy.Kubernetes;

/// <summary>
/// The one API-server configuration, chosen explicitly (style guide 9): the configured kubeconfig, else the
/// in-cluster service account, else $KUBECONFIG, else ~/.kube/config — never a silent fallback to localhost:8080.
/// </summary>
internal static class KubernetesClientFactory
{
    public static KubernetesClientConfiguration Configuration(KubernetesOptions options)
    {
        if (!string.IsNullOrEmpty(options.Kubeconfig))
            return KubernetesClientConfiguration.BuildConfigFromConfigFile(options.Kubeconfig);
        if (KubernetesClientConfiguration.IsInCluster())
            return KubernetesClientConfiguration.InClusterConfig();
        var path = Environment.GetEnvironmentVariable("KUBECONFIG");
        if (string.IsNullOrEmpty(path))
            path = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".kube", "config");
        if (File.Exists(path))
            return KubernetesClientConfiguration.BuildConfigFromConfigFile(path);
        throw new InvalidOperationException(
            "No Kubernetes API configuration: not running in a cluster, and no Kubernetes:Kubeconfig, $KUBECONFIG or ~/.kube/config.");
    }
}
