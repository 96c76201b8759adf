using Microsoft.Extensions.Options;

namespace MetadataProxy.Tokens;

/// <summary>Kubernetes mode's fairness limits: each must leave a well-behaved pod room and bound a hostile one.</summary>
internal sealed class TokenOptionsValidator : IValidateOptions<TokenOptions>
{
    public ValidateOptionsResult Validate(string? name, TokenOptions options)
    {
        var problems = new List<string>();
        if (options.MaxFetchesPerAccount is < 1 or > 1000)
            problems.Add($"Tokens:MaxFetchesPerAccount '{options.MaxFetchesPerAccount}' must be between 1 and 1000 (default 4).");
        if (options.NewKeysPerAccountBurst is < 1 or > 10_000)
            problems.Add($"Tokens:NewKeysPerAccountBurst '{options.NewKeysPerAccountBurst}' must be between 1 and 10000 (default 16).");
        if (options.NewKeysPerAccountPerMinute is < 1 or > 100_000)
            problems.Add($"Tokens:NewKeysPerAccountPerMinute '{options.NewKeysPerAccountPerMinute}' must be between 1 and 100000 (default 30).");
        if (options.UnavailableMemory < TimeSpan.Zero || options.UnavailableMemory > TimeSpan.FromSeconds(10))
            problems.Add($"Tokens:UnavailableMemory '{options.UnavailableMemory}' must be between 00:00:00 and 00:00:10 (default 00:00:01).");
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
