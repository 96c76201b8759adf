namespace MetadataProxy.CredentialProvider.Cli;

/// <summary>What the command line asked for, before anything in the environment is consulted.</summary>
internal sealed record Invocation(
    CommandKind Command,
    string? Verb = null,
    string? Directory = null,
    string? SocketPath = null,
    IReadOnlyList<string>? Registries = null);
