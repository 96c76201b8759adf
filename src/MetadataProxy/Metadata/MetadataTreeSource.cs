using Microsoft.Extensions.Options;

namespace MetadataProxy.Metadata;

/// <summary>
/// The current tree and the options it was built from, rebuilt when configuration changes; readers never wait for a
/// rebuild. Start-up validation refuses invalid values; after start an invalid reload is refused here, with a log
/// line, and the last valid tree keeps serving (a throwing options factory inside a reload callback would take the
/// process down instead).
/// </summary>
internal sealed partial class MetadataTreeSource : IDisposable
{
    private readonly IOptionsMonitor<MetadataOptions> _options;
    private readonly MetadataChangeNotifier _changes;
    private readonly IDisposable? _subscription;
    private readonly ILogger<MetadataTreeSource> _logger;
    private volatile Built _current;

    public MetadataTreeSource(IOptionsMonitor<MetadataOptions> options, MetadataChangeNotifier changes, ILogger<MetadataTreeSource> logger)
    {
        _logger = logger;
        _options = options;
        _changes = changes;
        _current = new Built(MetadataTreeBuilder.Build(options.CurrentValue), options.CurrentValue);
        _subscription = options.OnChange(_ => Rebuild());
    }

    public DirectoryNode Tree => _current.Tree;

    /// <summary>The tree and the options it was built from, read together (a reload between two reads would mix them).</summary>
    public Built Current => _current;

    /// <summary>The last valid options: what the tree shows.</summary>
    public MetadataOptions Options => _current.Options;

    public void Rebuild()
    {
        var options = _options.CurrentValue;
        var validation = new MetadataOptionsValidator().Validate(null, options);
        if (validation.Failed)
        {
            Log.InvalidReload(_logger, validation.FailureMessage);
            return;
        }

        _current = new Built(MetadataTreeBuilder.Build(options), options);
        _changes.NotifyChanged();
    }

    public void Dispose() => _subscription?.Dispose();

    internal sealed record Built(DirectoryNode Tree, MetadataOptions Options);

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Error, Message = "Configuration change ignored, the metadata tree keeps its last valid values: {Problems}")]
        public static partial void InvalidReload(ILogger logger, string problems);
    }
}
