using Microsoft.Extensions.Options;

namespace MetadataProxy.Hosting;

internal sealed class ListenerOptionsValidator(ProxyMode mode) : IValidateOptions<ListenerOptions>
{
    public ValidateOptionsResult Validate(string? name, ListenerOptions options)
    {
        var problems = new List<string>();
        if (!ListenAddress.TryParse(options.Metadata, out _, out var metadataError))
            problems.Add($"Listen:Metadata: {metadataError}.");
        if (!ListenAddress.TryParse(options.Admin, out _, out var adminError))
            problems.Add($"Listen:Admin: {adminError}.");
        if (options.NodeSocketEnabled && mode != ProxyMode.Kubernetes)
            problems.Add($"Listen:NodeSocket '{options.NodeSocket}': the node socket serves the node identity, which only Kubernetes mode has; leave it empty.");
        else if (options.NodeSocketEnabled && !Path.IsPathFullyQualified(options.NodeSocket!))
            problems.Add($"Listen:NodeSocket '{options.NodeSocket}' must be an absolute path (or empty to turn the socket off).");
        if (options.MaxConnections is < 16 or > 100_000)
            problems.Add($"Listen:MaxConnections {options.MaxConnections} must be between 16 and 100000 (default 1024).");
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
