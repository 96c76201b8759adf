using MetadataProxy.Identity;

namespace MetadataProxy.Tokens;

/// <summary>One cached access token: the KSA (a recreated account has a new UID), its Google identity, the scopes.</summary>
internal sealed record AccessTokenKey(string Namespace, string ServiceAccount, string? ServiceAccountUid, string? GoogleServiceAccount, string? QuotaProject, string Scopes)
{
    private static readonly string DefaultScopes = Join(CallerIdentity.DefaultScopes);

    public static AccessTokenKey For(CallerIdentity caller, IReadOnlyList<string> scopes) =>
        new(caller.Namespace, caller.KubernetesServiceAccount, caller.ServiceAccountUid, caller.GoogleServiceAccount, caller.QuotaProject,
            ReferenceEquals(scopes, CallerIdentity.DefaultScopes) ? DefaultScopes : Join(scopes));

    private static string Join(IReadOnlyList<string> scopes) => string.Join(' ', scopes.Order(StringComparer.Ordinal));
}
