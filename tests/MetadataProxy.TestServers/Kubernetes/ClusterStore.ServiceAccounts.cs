using k8s.Models;

namespace MetadataProxy.TestServers.Kubernetes;

/// <summary>The kinds the pull-secret controller writes (Secrets, Leases) and its list and patch of ServiceAccounts.</summary>
internal sealed partial class ClusterStore
{
    public ObjectStore<V1Secret> Secrets { get; }

    public ObjectStore<V1Lease> Leases { get; }

    /// <summary>The ServiceAccounts (of one namespace, or all) and the resourceVersion the list is consistent with.</summary>
    public (long ResourceVersion, List<V1ServiceAccount> Items) ListServiceAccounts(string? ns) =>
        Locked(() => (_counter.Current, _serviceAccounts.Items.Where(sa => ns is null || sa.Metadata.NamespaceProperty == ns).Select(KubeObjects.Clone).ToList()));

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
            var (_, stored) = _serviceAccounts.Update(ns, name, sa =>
            {
                sa.Metadata.Labels = after.Metadata?.Labels;
                sa.Metadata.Annotations = after.Metadata?.Annotations;
                sa.ImagePullSecrets = after.ImagePullSecrets;
                sa.Secrets = after.Secrets;
                sa.AutomountServiceAccountToken = after.AutomountServiceAccountToken;
            });
            return (KubeObjects.Clone(stored), null);
        }
    }
}
