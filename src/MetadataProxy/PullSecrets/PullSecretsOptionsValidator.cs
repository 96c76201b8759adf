using Microsoft.Extensions.Options;

namespace MetadataProxy.PullSecrets;

internal sealed class PullSecretsOptionsValidator : IValidateOptions<PullSecretsOptions>
{
    public ValidateOptionsResult Validate(string? name, PullSecretsOptions options)
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(options.Namespace))
            problems.Add("PullSecrets:Namespace is required in PullSecrets mode (set POD_NAMESPACE from the downward API field metadata.namespace).");
        if (string.IsNullOrWhiteSpace(options.Identity))
            problems.Add("PullSecrets:Identity is required in PullSecrets mode (set POD_NAME from the downward API field metadata.name).");
        if (!PullSecretName.IsDnsSubdomain(options.LeaseName))
            problems.Add($"PullSecrets:LeaseName '{options.LeaseName}' must be a DNS subdomain name.");
        if (options.LeaseDuration < TimeSpan.FromSeconds(1) || options.LeaseDuration > TimeSpan.FromHours(2))
            problems.Add($"PullSecrets:LeaseDuration {options.LeaseDuration} must be between 00:00:01 and 02:00:00 (default 00:00:15).");
        if (options.RenewDeadline <= options.RetryPeriod || options.RenewDeadline + options.RetryPeriod >= options.LeaseDuration)
            problems.Add($"PullSecrets:RenewDeadline {options.RenewDeadline} must be longer than PullSecrets:RetryPeriod ({options.RetryPeriod}) and, with it, shorter than "
                + $"PullSecrets:LeaseDuration ({options.LeaseDuration}), so a leader that cannot renew stops before another may start (defaults 00:00:10, 00:00:02, 00:00:15).");
        if (options.RetryPeriod < TimeSpan.FromMilliseconds(100))
            problems.Add($"PullSecrets:RetryPeriod {options.RetryPeriod} must be at least 00:00:00.1 (default 00:00:02).");
        if (options.ResyncInterval < TimeSpan.FromSeconds(1) || options.ResyncInterval > TimeSpan.FromHours(1))
            problems.Add($"PullSecrets:ResyncInterval {options.ResyncInterval} must be between 00:00:01 and 01:00:00 (default 00:10:00).");
        if (options.ListPageSize is < 1 or > 10_000)
            problems.Add($"PullSecrets:ListPageSize {options.ListPageSize} must be between 1 and 10000 (default 500).");
        if (options.RetryDelay < TimeSpan.FromMilliseconds(100) || options.RetryDelayMax < options.RetryDelay || options.RetryDelayMax > TimeSpan.FromMinutes(10))
            problems.Add($"PullSecrets:RetryDelay {options.RetryDelay} must be at least 00:00:00.1 and at most PullSecrets:RetryDelayMax ({options.RetryDelayMax}), itself at most 00:10:00.");
        if (options.MinimumLifetime < TimeSpan.FromMinutes(5) || options.MinimumLifetime > TimeSpan.FromMinutes(30))
            problems.Add($"PullSecrets:MinimumLifetime {options.MinimumLifetime} must be between 00:05:00 and 00:30:00 (default 00:10:00).");
        if (options.ScopeList() is not { Count: > 0 } scopes || scopes.Any(scope => !scope.StartsWith("https://www.googleapis.com/auth/", StringComparison.Ordinal)))
            problems.Add($"PullSecrets:Scopes '{options.Scopes}' must be one or more https://www.googleapis.com/auth/... scopes (default cloud-platform).");
        if (RegistryHosts.Parse(options.Registries, out var problem) is null)
            problems.Add($"PullSecrets:Registries: {problem}.");
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
