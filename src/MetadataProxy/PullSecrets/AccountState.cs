namespace MetadataProxy.PullSecrets;

/// <summary>
/// What the leader remembers of one opted-in account between passes: when to look again, the consecutive failures
/// behind that time (for a taken name: the consecutive checks that found it taken), and the expiry of the credential
/// its Secret holds. <paramref name="Fingerprint"/> is what the Secret was made for (account UID, Google identity,
/// registries): a change makes it due at once. <paramref name="Refusal"/> says why a refused account is refused.
/// </summary>
internal sealed record AccountState(PullSecretState State, DateTimeOffset DueAt, int Failures, DateTimeOffset? ExpiresAt, string Fingerprint,
    PullSecretRefusal Refusal = PullSecretRefusal.None);

internal enum PullSecretState
{
    /// <summary>The Secret holds a credential with more than half its life left, and the account references it.</summary>
    Current,

    /// <summary>The last refresh failed; it is retried with back-off while the Secret keeps what it holds.</summary>
    Failing,

    /// <summary>Something the account's owner must fix (annotation, name taken): a Warning Event says what.</summary>
    Refused,
}
