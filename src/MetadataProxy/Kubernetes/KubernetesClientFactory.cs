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
        if (string.IsNullOrEmpty(options.Kubeconfig) && KubernetesClientConfiguration.IsInCluster())
            return KubernetesClientConfiguration.InClusterConfig();
        return KubeconfigPath(options) is { } path
            ? KubernetesClientConfiguration.BuildConfigFromConfigFile(path)
            : throw new InvalidOperationException(Problem(options));
    }

    /// <summary>Why no configuration can be built, or null when one can.</summary>
    public static string? ProblemOrNull(KubernetesOptions options) =>
        (string.IsNullOrEmpty(options.Kubeconfig) && KubernetesClientConfiguration.IsInCluster()) || KubeconfigPath(options) is not null
            ? null
            : Problem(options);

    private static string? KubeconfigPath(KubernetesOptions options)
    {
        var path = !string.IsNullOrEmpty(options.Kubeconfig) ? options.Kubeconfig
            : Environment.GetEnvironmentVariable("KUBECONFIG") is { Length: > 0 } variable ? variable
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".kube", "config");
        return File.Exists(path) ? path : null;
    }

    private static string Problem(KubernetesOptions options) => string.IsNullOrEmpty(options.Kubeconfig)
        ? "No Kubernetes API configuration: not running in a cluster, and no Kubernetes:Kubeconfig, $KUBECONFIG or ~/.kube/config."
        : $"Kubernetes:Kubeconfig '{options.Kubeconfig}' does not exist.";
}
