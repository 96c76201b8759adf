using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace MetadataProxy.Tokens;

/// <summary>Kubernetes mode exchanges tokens in one Workload Identity pool: it must be named in full.</summary>
internal sealed partial class WorkloadIdentityOptionsValidator : IValidateOptions<WorkloadIdentityOptions>
{
    public ValidateOptionsResult Validate(string? name, WorkloadIdentityOptions options)
    {
        var problems = new List<string>();
        if (string.IsNullOrEmpty(options.ProjectId))
            problems.Add("WorkloadIdentity:ProjectId is required in Kubernetes mode (the project of the Workload Identity pool).");
        if (string.IsNullOrEmpty(options.ProjectNumber) || !options.ProjectNumber.All(char.IsAsciiDigit))
            problems.Add($"WorkloadIdentity:ProjectNumber '{options.ProjectNumber}' must be the pool project's number (digits).");
        if (string.IsNullOrEmpty(options.PoolId) || !IdPattern().IsMatch(options.PoolId))
            problems.Add($"WorkloadIdentity:PoolId '{options.PoolId}' must be a Workload Identity pool id (4-32 lowercase letters, digits or hyphens).");
        if (string.IsNullOrEmpty(options.ProviderId) || !IdPattern().IsMatch(options.ProviderId))
            problems.Add($"WorkloadIdentity:ProviderId '{options.ProviderId}' must be a Workload Identity provider id (4-32 lowercase letters, digits or hyphens).");
        if (!options.StsEndpoint.IsAbsoluteUri)
            problems.Add("WorkloadIdentity:StsEndpoint must be an absolute URL.");
        if (!options.IamCredentialsEndpoint.IsAbsoluteUri)
            problems.Add("WorkloadIdentity:IamCredentialsEndpoint must be an absolute URL.");
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }

    [GeneratedRegex("^[a-z0-9-]{4,32}$", RegexOptions.CultureInvariant)]
    private static partial Regex IdPattern();
}
