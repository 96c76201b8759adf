using k8s.Models;

namespace MetadataProxy.TestServers.Kubernetes;

/// <summary>Secrets, Leases and ServiceAccount list, watch and writes, for the pull-secret controller's tests.</summary>
public sealed partial class KubernetesTestServer
{
    public V1Secret? GetSecret(string ns, string name) => _store.Secrets.Get(ns, name);

    public IReadOnlyList<V1Secret> Secrets(string? ns = null) => _store.Secrets.List(ns);

    /// <summary>A Secret as someone else would create it.</summary>
    public V1Secret AddSecret(V1Secret secret) =>
        _store.Secrets.Create(secret.Metadata.NamespaceProperty, secret) is ({ } created, _) ? created : throw new InvalidOperationException("not created");

    /// <summary>Secret updates stored so far, and those answered 409.</summary>
    public int SecretUpdates => _store.Secrets.Updates;

    public int SecretConflicts => _store.Secrets.Conflicts;

    /// <summary>The next <paramref name="updates"/> Secret updates meet a change by another writer first (a real 409).</summary>
    public void InterfereWithSecretUpdates(int updates) => _store.Secrets.Interfere(updates);

    /// <summary>The next <paramref name="patches"/> ServiceAccount patches meet a change by another writer first (a real 409).</summary>
    public void InterfereWithServiceAccountPatches(int patches) => _counters.InterfereWithServiceAccountPatches(patches);

    /// <summary>ServiceAccount list requests served so far, every chunk counted.</summary>
    public int ServiceAccountLists => _counters.ServiceAccountLists;

    /// <summary>The resourceVersion of every ServiceAccount list request (each chunk), in order; "" when it sent none.</summary>
    public IReadOnlyList<string> ServiceAccountListVersions => _counters.ServiceAccountListVersions;

    /// <summary>ServiceAccount watches (<c>watch=true</c>) opened so far.</summary>
    public int ServiceAccountWatches => _counters.ServiceAccountWatches;

    public int ServiceAccountPatches => _counters.ServiceAccountPatches;

    /// <summary>The next <paramref name="lists"/> ServiceAccount list requests answer 500.</summary>
    public void FailServiceAccountLists(int lists) => _counters.FailServiceAccountLists(lists);

    /// <summary>Event creation hangs (the request is read, then unanswered) until <see cref="ResumeEvents"/>.</summary>
    public void StallEvents() => _settings.EventStall.On();

    public void ResumeEvents() => _settings.EventStall.Off();

    public V1ServiceAccount? GetServiceAccount(string ns, string name) => _store.GetServiceAccount(ns, name);

    public V1Lease? GetLease(string ns, string name) => _store.Leases.Get(ns, name);

    public V1Lease AddLease(V1Lease lease) =>
        _store.Leases.Create(lease.Metadata.NamespaceProperty, lease) is ({ } created, _) ? created : throw new InvalidOperationException("not created");
}
