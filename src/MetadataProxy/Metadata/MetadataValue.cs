namespace MetadataProxy.Metadata;

/// <summary>A leaf value: text, a number kept as its decimal digits (R-4: never through double), or a list.</summary>
internal abstract class MetadataValue
{
    public sealed class Text(string value) : MetadataValue
    {
        public string Value { get; } = value;
    }

    public sealed class Number(string digits) : MetadataValue
    {
        public string Digits { get; } = digits;
    }

    /// <summary>A list; <paramref name="jsonByDefault"/> for lists GCE serves as JSON (A-1 tags), else text lines (A-4 scopes).</summary>
    public sealed class List(IReadOnlyList<string> items, bool jsonByDefault = false) : MetadataValue
    {
        public IReadOnlyList<string> Items { get; } = items;

        public bool JsonByDefault { get; } = jsonByDefault;
    }
}
