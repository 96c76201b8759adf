namespace MetadataProxy.Metadata;

internal enum CredentialKind
{
    AccessToken,
    IdToken,
}
