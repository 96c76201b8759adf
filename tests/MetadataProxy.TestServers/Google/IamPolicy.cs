using System.Collections.Concurrent;

namespace MetadataProxy.TestServers.Google;

/// <summary>
/// Bindings of roles/iam.workloadIdentityUser + roles/iam.serviceAccountTokenCreator on service accounts.
/// A member is an exact IAM member (<c>principal://…</c>, <c>serviceAccount:…</c>, <c>user:…</c>) or a whole pool,
/// <c>principalSet://iam.googleapis.com/projects/N/locations/global/workloadIdentityPools/P/*</c>.
/// </summary>
internal sealed class IamPolicy
{
    private const string PoolSetSuffix = "/*";

    private readonly ConcurrentDictionary<(string Member, string ServiceAccount), bool> _bindings = new();

    public void Allow(string member, string serviceAccountEmail) => _bindings[(member, serviceAccountEmail.ToLowerInvariant())] = true;

    public bool IsAllowed(string member, string serviceAccountEmail)
    {
        var email = serviceAccountEmail.ToLowerInvariant();
        if (_bindings.ContainsKey((member, email)))
        {
            return true;
        }

        return _bindings.Keys.Any(b => b.ServiceAccount == email && CoversPool(b.Member, member));
    }

    private static bool CoversPool(string bound, string member)
    {
        if (!bound.StartsWith("principalSet://", StringComparison.Ordinal) || !bound.EndsWith(PoolSetSuffix, StringComparison.Ordinal))
        {
            return false;
        }

        var pool = "principal://" + bound["principalSet://".Length..^PoolSetSuffix.Length] + "/subject/";
        return member.StartsWith(pool, StringComparison.Ordinal);
    }
}
