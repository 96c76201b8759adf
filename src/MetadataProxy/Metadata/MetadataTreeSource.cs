using Microsoft.Extensions.Options;

namespace MetadataProxy.Metadata;

/// <summary>The current tree, rebuilt when configuration changes; readers never wait for a rebuild.</summary>
internal sealed class MetadataTreeSource : IDisposable
{
    private readonly IOptionsMonitor<MetadataOptions> _options;
    private readonly MetadataChangeNotifier _changes;
    private readonly IDisposable? _subscription;
    private volatile DirectoryNode _tree;

    public MetadataTreeSource(IOptionsMonitor<MetadataOptions> options, MetadataChangeNotifier changes)
    {
        _options = options;
        _changes = changes;
        _tree = MetadataTreeBuilder.Build(options.CurrentValue);
        _subscription = options.OnChange(_ => Rebuild());
    }

    public DirectoryNode Tree => _tree;

    public MetadataOptions Options => _options.CurrentValue;

    public void Rebuild()
    {
        _tree = MetadataTreeBuilder.Build(_options.CurrentValue);
        _changes.NotifyChanged();
    }

    public void Dispose() => _subscription?.Dispose();
}
