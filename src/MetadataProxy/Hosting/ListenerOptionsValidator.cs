using MetadataProxy.Metadata;
using Microsoft.Extensions.Options;

namespace MetadataProxy.Hosting;

internal sealed class ListenerOptionsValidator(ProxyMode mode) : IValidateOptions<ListenerOptions>
{
    public ValidateOptionsResult Validate(string? name, ListenerOptions options)
    {
        var problems = new List<string>();
        if (mode != ProxyMode.PullSecrets && !ListenAddress.TryParse(options.Metadata, out _, out var metadataError))
            problems.Add($"Listen:Metadata: {metadataError}.");
        if (!ListenAddress.TryParse(options.Admin, out _, out var adminError))
            problems.Add($"Listen:Admin: {adminError}.");
        if (options.NodeSocketEnabled && mode != ProxyMode.Kubernetes)
            problems.Add($"Listen:NodeSocket '{options.NodeSocket}': the node socket serves the node identity, which only Kubernetes mode has; leave it empty.");
        else if (options.NodeSocketEnabled && !Path.IsPathFullyQualified(options.NodeSocket!))
            problems.Add($"Listen:NodeSocket '{options.NodeSocket}' must be an absolute path (or empty to turn the socket off).");
        if (options.AdminSocketEnabled && !Path.IsPathFullyQualified(options.AdminSocket!))
            problems.Add($"Listen:AdminSocket '{options.AdminSocket}' must be an absolute path (or empty to turn the socket off).");
        if (options.MaxConnections is < 16 or > 100_000)
            problems.Add($"Listen:MaxConnections {options.MaxConnections} must be between 16 and 100000 (default 4096).");
        if (options.MaxConnectionsPerSource <= MetadataService.MaxWaitsPerCaller || options.MaxConnectionsPerSource >= options.MaxConnections)
            problems.Add($"Listen:MaxConnectionsPerSource {options.MaxConnectionsPerSource} must be more than {MetadataService.MaxWaitsPerCaller} (the wait_for_change "
                + $"requests one caller may hold) and less than Listen:MaxConnections ({options.MaxConnections}); default 128.");
        if (options.AdminMaxConnectionsPerSource < 2 || options.AdminMaxConnectionsPerSource >= options.MaxConnections)
            problems.Add($"Listen:AdminMaxConnectionsPerSource {options.AdminMaxConnectionsPerSource} must be at least 2 and less than Listen:MaxConnections ({options.MaxConnections}); default 8.");
        if (options.RequestHeadersTimeout < TimeSpan.FromSeconds(1) || options.RequestHeadersTimeout > TimeSpan.FromSeconds(30))
            problems.Add($"Listen:RequestHeadersTimeout {options.RequestHeadersTimeout} must be between 00:00:01 and 00:00:30 (default 00:00:05).");
        if (options.KeepAliveTimeout < TimeSpan.FromSeconds(1) || options.KeepAliveTimeout > TimeSpan.FromMinutes(5))
            problems.Add($"Listen:KeepAliveTimeout {options.KeepAliveTimeout} must be between 00:00:01 and 00:05:00 (default 00:00:30).");
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
