using MetadataProxy.Identity;

namespace MetadataProxy.Metadata;

/// <summary>
/// <c>token</c> or <c>identity</c> of one caller's service account: minted on demand, never part of a
/// recursive rendering (TK-11) and never waited on (TK-8).
/// </summary>
internal sealed class CredentialLeaf(CredentialKind kind, CallerIdentity caller) : MetadataNode
{
    public CredentialKind Kind { get; } = kind;

    public CallerIdentity Caller { get; } = caller;
}
