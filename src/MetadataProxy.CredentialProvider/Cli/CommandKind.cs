namespace MetadataProxy.CredentialProvider.Cli;

/// <summary>The faces of the one executable.</summary>
internal enum CommandKind
{
    Help,
    GetCredentials,
    DockerCredential,
    Install,
}
