using k8s;
using Microsoft.Extensions.Options;

namespace MetadataProxy.Kubernetes;

internal sealed class KubernetesOptionsValidator : IValidateOptions<KubernetesOptions>
{
    public ValidateOptionsResult Validate(string? name, KubernetesOptions options)
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(options.NodeName))
            problems.Add("Kubernetes:NodeName is required in Kubernetes mode (set NODE_NAME from the downward API field spec.nodeName).");
        if (!string.IsNullOrEmpty(options.Kubeconfig) && !File.Exists(options.Kubeconfig))
            problems.Add($"Kubernetes:Kubeconfig '{options.Kubeconfig}' does not exist.");
        else if (string.IsNullOrEmpty(options.Kubeconfig) && !KubernetesClientConfiguration.IsInCluster()
                 && !File.Exists(Environment.GetEnvironmentVariable("KUBECONFIG") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".kube", "config")))
            problems.Add("No Kubernetes API configuration: not running in a cluster, and no Kubernetes:Kubeconfig, $KUBECONFIG or ~/.kube/config.");
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
