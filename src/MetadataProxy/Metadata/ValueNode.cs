namespace MetadataProxy.Metadata;

internal sealed class ValueNode(MetadataValue value) : MetadataNode
{
    public MetadataValue Value { get; } = value;

    public static ValueNode Text(string value) => new(new MetadataValue.Text(value));

    public static ValueNode Number(string digits) => new(new MetadataValue.Number(digits));

    public static ValueNode List(IReadOnlyList<string> items) => new(new MetadataValue.List(items));
}
