namespace MetadataProxy.Metadata;

/// <summary>The exact content types GCE sends; no charset on either (G-12, G-13).</summary>
internal static class ContentTypes
{
    public const string Text = "application/text";
    public const string Json = "application/json";
}
