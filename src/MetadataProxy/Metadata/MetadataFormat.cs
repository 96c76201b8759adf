namespace MetadataProxy.Metadata;

internal enum MetadataFormat
{
    Text,
    Json,
}
