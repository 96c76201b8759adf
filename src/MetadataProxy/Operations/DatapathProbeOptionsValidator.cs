using Microsoft.Extensions.Options;

namespace MetadataProxy.Operations;

internal sealed class DatapathProbeOptionsValidator : IValidateOptions<DatapathProbeOptions>
{
    public ValidateOptionsResult Validate(string? name, DatapathProbeOptions options) =>
        string.IsNullOrEmpty(options.DatapathProbeFile) || Path.IsPathFullyQualified(options.DatapathProbeFile)
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"Operations:DatapathProbeFile '{options.DatapathProbeFile}' must be an absolute path (or empty: no datapath probe condition).");
}
