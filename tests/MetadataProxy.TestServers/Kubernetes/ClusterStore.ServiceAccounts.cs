using k8s.Models;

namespace MetadataProxy.TestServers.Kubernetes;

/// <summary>ServiceAccounts (writes reach their watches; lists are chunked) and the kinds the pull-secret controller writes (Secrets, Leases).</summary>
internal sealed partial class ClusterStore
{
    private readonly ListPager<V1ServiceAccount> _accountPages = new();

    public ObjectStore<V1Secret> Secrets { get; }

    public ObjectStore<V1Lease> Leases { get; }

    /// <summary>One chunk of the ServiceAccounts (of one namespace, or all): everything when <paramref name="limit"/> is null.</summary>
    public (ListChunk<V1ServiceAccount>? Chunk, V1Status? Failure) ListServiceAccounts(string? ns, int? limit, string? continueToken)
    {
        lock (_gate)
        {
            var (chunk, failure) = _accountPages.Page(_serviceAccounts.Items.Where(sa => ns is null || sa.Metadata.NamespaceProperty == ns),
                _counter.Current, _accountHistory.OldestWatchable, limit, continueToken);
            return chunk is null ? (null, failure) : (chunk with { Items = chunk.Items.Select(KubeObjects.Clone).ToList() }, null);
        }
    }

    public V1ServiceAccount AddServiceAccount(V1ServiceAccount sa)
    {
        lock (_gate)
        {
            var added = _serviceAccounts.Add(sa);
            _accountHistory.Record(new ObjectChange<V1ServiceAccount>(Rv(added), null, added));
            return KubeObjects.Clone(added);
        }
    }

    public V1ServiceAccount UpdateServiceAccount(string ns, string name, Action<V1ServiceAccount> mutate)
    {
        lock (_gate)
        {
            var (before, after) = _serviceAccounts.Update(ns, name, mutate);
            _accountHistory.Record(new ObjectChange<V1ServiceAccount>(Rv(after), before, after));
            return KubeObjects.Clone(after);
        }
    }

    public void DeleteServiceAccount(string ns, string name)
    {
        V1ServiceAccount gone;
        lock (_gate)
        {
            gone = _serviceAccounts.Delete(ns, name);
            _accountHistory.Record(new ObjectChange<V1ServiceAccount>(Rv(gone), gone, null));
        }

        Secrets.DeleteWhere(s => s.Metadata.NamespaceProperty == ns && s.Metadata.OwnerReferences?.Any(o => o.Uid == gone.Metadata.Uid) == true);
    }

    public V1ServiceAccount? GetServiceAccount(string ns, string name) =>
        Locked(() => _serviceAccounts.Find(ns, name) is { } sa ? KubeObjects.Clone(sa) : null);

    /// <summary>Replaces the account with <paramref name="patched"/> when <paramref name="expectedVersion"/> (if any) is still its resourceVersion.</summary>
    public (V1ServiceAccount? Account, V1Status? Failure) PatchServiceAccount(string ns, string name, Func<V1ServiceAccount, V1ServiceAccount?> patched, Func<string?> expectedVersion)
    {
        lock (_gate)
        {
            if (_serviceAccounts.Find(ns, name) is not { } current)
                return (null, KubeStatus.NotFound("serviceaccounts", name));
            if (expectedVersion() is { } expected && expected != current.Metadata.ResourceVersion)
                return (null, KubeStatus.Conflict("serviceaccounts", name, "the object has been modified; please apply your changes to the latest version and try again"));
            if (patched(KubeObjects.Clone(current)) is not { } after)
                return (null, KubeStatus.BadRequest("the patch could not be applied"));
            var (before, stored) = _serviceAccounts.Update(ns, name, sa =>
            {
                sa.Metadata.Labels = after.Metadata?.Labels;
                sa.Metadata.Annotations = after.Metadata?.Annotations;
                sa.ImagePullSecrets = after.ImagePullSecrets;
                sa.Secrets = after.Secrets;
                sa.AutomountServiceAccountToken = after.AutomountServiceAccountToken;
            });
            _accountHistory.Record(new ObjectChange<V1ServiceAccount>(Rv(stored), before, stored));
            return (KubeObjects.Clone(stored), null);
        }
    }

    private static long Rv(V1ServiceAccount account) => long.Parse(account.Metadata.ResourceVersion, System.Globalization.CultureInfo.InvariantCulture);
}
