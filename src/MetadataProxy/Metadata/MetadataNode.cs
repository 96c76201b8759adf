namespace MetadataProxy.Metadata;

/// <summary>One node of the GCE metadata tree: a directory, a value, or a leaf served on demand.</summary>
internal abstract class MetadataNode;
