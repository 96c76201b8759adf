using System.Collections.Concurrent;
using Google.Apis.Auth.OAuth2;

namespace MetadataProxy.Tokens;

/// <summary>
/// The Google credentials of one Kubernetes service account. Impersonation: one federated credential, so one STS
/// exchange serves every scope set and audience of the account until Google.Apis.Auth refreshes it. Direct resource
/// access: STS issues the final token, with its scopes, so each scope set has a federated credential of its own, at
/// most <see cref="MaxDirectScopeSets"/> of them; past that one of them is dropped, never another account's.
/// </summary>
internal sealed class AccountCredentials(Func<IamCredentialsClient> impersonation)
{
    public const int MaxDirectScopeSets = 32;

    private readonly Lazy<IamCredentialsClient> _iam = new(impersonation);
    private readonly ConcurrentDictionary<string, GoogleCredential> _direct = new(StringComparer.Ordinal);

    /// <summary>IAM Credentials, called as the account's one federated identity.</summary>
    public IamCredentialsClient Iam => _iam.Value;

    /// <summary>Scope sets with a direct credential now (for tests and the bound).</summary>
    public int DirectScopeSets => _direct.Count;

    public GoogleCredential Direct(IReadOnlyList<string> scopes, Func<GoogleCredential> create)
    {
        var key = string.Join(' ', scopes);
        if (_direct.TryGetValue(key, out var credential))
            return credential;
        while (_direct.Count >= MaxDirectScopeSets && _direct.Keys.FirstOrDefault() is { } dropped)
            _direct.TryRemove(dropped, out _);
        return _direct.GetOrAdd(key, _ => create());
    }
}
