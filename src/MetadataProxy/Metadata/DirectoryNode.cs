namespace MetadataProxy.Metadata;

internal sealed class DirectoryNode(
    IReadOnlyDictionary<string, MetadataNode> children,
    KeyStyle keyStyle = KeyStyle.Fixed,
    IReadOnlySet<string>? concealedKeys = null,
    string? missingChildMessage = null) : MetadataNode
{
    public static readonly DirectoryNode Empty = new(new Dictionary<string, MetadataNode>());

    public IReadOnlyDictionary<string, MetadataNode> Children { get; } = children;

    public KeyStyle KeyStyle { get; } = keyStyle;

    /// <summary>Keys answered with 403 "concealed" whether or not they exist (spec AT-5).</summary>
    public IReadOnlySet<string> ConcealedKeys { get; } = concealedKeys ?? new HashSet<string>();

    /// <summary>Why a key is missing, when there is more to say than "not found" (an empty service-account directory).</summary>
    public string? MissingChildMessage { get; } = missingChildMessage;

    /// <summary>Keys in listing order: ordinal, as GCE lists them.</summary>
    public IEnumerable<KeyValuePair<string, MetadataNode>> Ordered => Children.OrderBy(c => c.Key, StringComparer.Ordinal);

    public DirectoryNode With(string key, MetadataNode child)
    {
        var copy = new Dictionary<string, MetadataNode>(Children, StringComparer.Ordinal) { [key] = child };
        return new DirectoryNode(copy, KeyStyle, ConcealedKeys, MissingChildMessage);
    }
}
