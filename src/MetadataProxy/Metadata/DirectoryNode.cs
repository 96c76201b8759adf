namespace MetadataProxy.Metadata;

/// <summary>
/// A directory of the tree. With <see cref="KeyOrder.AsSet"/> the children's own enumeration order is the listing
/// order, so such a directory is built from an <see cref="OrderedDictionary{TKey, TValue}"/>.
/// </summary>
internal sealed class DirectoryNode(
    IReadOnlyDictionary<string, MetadataNode> children,
    KeyStyle keyStyle = KeyStyle.Fixed,
    IReadOnlySet<string>? concealedKeys = null,
    string? missingChildMessage = null,
    KeyOrder keyOrder = KeyOrder.Ordinal) : MetadataNode
{
    public static readonly DirectoryNode Empty = new(new Dictionary<string, MetadataNode>());

    public IReadOnlyDictionary<string, MetadataNode> Children { get; } = children;

    public KeyStyle KeyStyle { get; } = keyStyle;

    public KeyOrder KeyOrder { get; } = keyOrder;

    /// <summary>Keys answered "concealed" (404) whether or not they exist (spec AT-5).</summary>
    public IReadOnlySet<string> ConcealedKeys { get; } = concealedKeys ?? new HashSet<string>();

    /// <summary>Why a key is missing, when there is more to say than "not found" (an empty service-account directory).</summary>
    public string? MissingChildMessage { get; } = missingChildMessage;

    /// <summary>Keys in listing and recursive-rendering order.</summary>
    public IEnumerable<KeyValuePair<string, MetadataNode>> Ordered =>
        KeyOrder == KeyOrder.AsSet ? Children : Children.OrderBy(c => c.Key, StringComparer.Ordinal);

    /// <summary>This directory's listing (D-2), rendered on first use: a directory never changes once built.</summary>
    internal MetadataResult.Content? RenderedListing { get; set; }

    public DirectoryNode With(string key, MetadataNode child)
    {
        var copy = new OrderedDictionary<string, MetadataNode>(Children, StringComparer.Ordinal) { [key] = child };
        return new DirectoryNode(copy, KeyStyle, ConcealedKeys, MissingChildMessage, KeyOrder);
    }
}
