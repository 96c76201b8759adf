namespace MetadataProxy.CredentialProvider.Cli;

/// <summary>An expected failure: the one line the operator reads and the exit code the caller sees.</summary>
internal sealed record Failure(int ExitCode, string Message)
{
    public static Failure Refused(string message) => new(ExitCodes.Failed, message);

    public static Failure BadInput(string message) => new(ExitCodes.Usage, message);
}
