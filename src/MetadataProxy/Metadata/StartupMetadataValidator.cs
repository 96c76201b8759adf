using Microsoft.Extensions.Options;

namespace MetadataProxy.Metadata;

/// <summary>
/// Validates <see cref="MetadataOptions"/> in the options factory until the host has started, so that start-up
/// reports every problem and exits; later values (reloads, Node facts) are checked by <see cref="MetadataTreeSource"/>,
/// which keeps the last valid tree instead of throwing from a reload callback.
/// </summary>
internal sealed class StartupMetadataValidator(IHostApplicationLifetime lifetime) : IValidateOptions<MetadataOptions>
{
    private readonly MetadataOptionsValidator _validator = new();

    public ValidateOptionsResult Validate(string? name, MetadataOptions options) =>
        lifetime.ApplicationStarted.IsCancellationRequested ? ValidateOptionsResult.Skip : _validator.Validate(name, options);
}
