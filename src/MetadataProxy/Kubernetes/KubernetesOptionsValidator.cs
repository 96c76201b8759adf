using Microsoft.Extensions.Options;

namespace MetadataProxy.Kubernetes;

internal sealed class KubernetesOptionsValidator : IValidateOptions<KubernetesOptions>
{
    public ValidateOptionsResult Validate(string? name, KubernetesOptions options)
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(options.NodeName))
            problems.Add("Kubernetes:NodeName is required in Kubernetes mode (set NODE_NAME from the downward API field spec.nodeName).");
        if (options.WatchBookmarkInterval < TimeSpan.FromMilliseconds(100) || options.WatchBookmarkInterval > TimeSpan.FromMinutes(10))
            problems.Add($"Kubernetes:WatchBookmarkInterval must be between 00:00:00.1 and 00:10:00 (default 00:01:00); it is {options.WatchBookmarkInterval}.");
        if (options.ReconnectDelayMax < TimeSpan.FromMilliseconds(200) || options.ReconnectDelayMax > TimeSpan.FromMinutes(1))
            problems.Add($"Kubernetes:ReconnectDelayMax must be between 00:00:00.2 and 00:01:00 (default 00:00:03); it is {options.ReconnectDelayMax}.");
        if (KubernetesClientFactory.ProblemOrNull(options) is { } problem)
            problems.Add(problem);
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
