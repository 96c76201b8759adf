namespace MetadataProxy.Metadata;

/// <summary>
/// Stands in the shared tree where the caller's own service accounts go; a request that reaches it
/// resolves the caller and sees that caller's directory instead.
/// </summary>
internal sealed class CallerDirectoryNode : MetadataNode
{
    public static readonly CallerDirectoryNode Instance = new();

    private CallerDirectoryNode()
    {
    }
}
