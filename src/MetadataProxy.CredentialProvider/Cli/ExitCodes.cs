namespace MetadataProxy.CredentialProvider.Cli;

/// <summary>The process exit codes, documented in the README; the kubelet only distinguishes zero from non-zero.</summary>
internal static class ExitCodes
{
    public const int Ok = 0;

    /// <summary>Refused or failed: the server said no, could not be reached, answered nonsense, or the deadline passed.</summary>
    public const int Failed = 1;

    /// <summary>The caller's mistake: unknown arguments, malformed standard input.</summary>
    public const int Usage = 2;
}
