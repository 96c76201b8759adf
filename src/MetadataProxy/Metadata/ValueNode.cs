namespace MetadataProxy.Metadata;

internal sealed class ValueNode(MetadataValue value) : MetadataNode
{
    public MetadataValue Value { get; } = value;

    /// <summary>This value as text and as JSON (A-1..A-4), each rendered on first use: a value never changes once built.</summary>
    internal MetadataResult.Content? RenderedText { get; set; }

    /// <inheritdoc cref="RenderedText"/>
    internal MetadataResult.Content? RenderedJson { get; set; }

    public static ValueNode Text(string value) => new(new MetadataValue.Text(value));

    public static ValueNode Number(string digits) => new(new MetadataValue.Number(digits));

    public static ValueNode List(IReadOnlyList<string> items) => new(new MetadataValue.List(items));
}
