using MetadataProxy.Identity;

namespace MetadataProxy.Tokens;

/// <summary>One cached ID token: the KSA, its Google service account, the audience and the format.</summary>
internal sealed record IdTokenKey(string Namespace, string ServiceAccount, string? ServiceAccountUid, string? GoogleServiceAccount, string Audience, bool FullFormat)
{
    public static IdTokenKey For(CallerIdentity caller, IdTokenRequest request) =>
        new(caller.Namespace, caller.KubernetesServiceAccount, caller.ServiceAccountUid, caller.GoogleServiceAccount, request.Audience, request.FullFormat);
}
