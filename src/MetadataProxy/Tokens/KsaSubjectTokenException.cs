namespace MetadataProxy.Tokens;

/// <summary>The KSA token for an exchange could not be minted; carried through Google.Apis.Auth to the exchange.</summary>
internal sealed class KsaSubjectTokenException(bool retryable, string message) : Exception(message)
{
    public bool Retryable { get; } = retryable;
}
