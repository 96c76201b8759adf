using Microsoft.Extensions.Options;

namespace MetadataProxy.Kubernetes;

internal sealed class KubernetesOptionsValidator : IValidateOptions<KubernetesOptions>
{
    public ValidateOptionsResult Validate(string? name, KubernetesOptions options)
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(options.NodeName))
            problems.Add("Kubernetes:NodeName is required in Kubernetes mode (set NODE_NAME from the downward API field spec.nodeName).");
        if (KubernetesClientFactory.ProblemOrNull(options) is { } problem)
            problems.Add(problem);
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
