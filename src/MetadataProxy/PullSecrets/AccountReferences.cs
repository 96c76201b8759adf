using System.Net;
using System.Text.Json.Nodes;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace MetadataProxy.PullSecrets;

/// <summary>
/// Adds or removes one name in a ServiceAccount's <c>imagePullSecrets</c> with a JSON merge patch that carries the
/// account's resourceVersion: the other entries are sent back as they were read, and if anyone changed the account
/// meanwhile the API server answers 409 and the change is made again on the account as it is now.
/// </summary>
internal sealed class AccountReferences(IKubernetes client)
{
    private const int MaxAttempts = 5;

    private int _conflicts;

    /// <summary>Conflicts answered by the API server and retried so far.</summary>
    public int Conflicts => Volatile.Read(ref _conflicts);

    public static bool Has(V1ServiceAccount account, string secretName) =>
        account.ImagePullSecrets?.Any(r => r.Name == secretName) == true;

    /// <summary>The account as written, or null when it is gone.</summary>
    public Task<V1ServiceAccount?> AddAsync(V1ServiceAccount account, string secretName, CancellationToken cancellationToken) =>
        ChangeAsync(account, a => Has(a, secretName) ? null : [.. a.ImagePullSecrets ?? [], new V1LocalObjectReference { Name = secretName }], cancellationToken);

    public Task<V1ServiceAccount?> RemoveAsync(V1ServiceAccount account, string secretName, CancellationToken cancellationToken) =>
        ChangeAsync(account, a => Has(a, secretName) ? [.. a.ImagePullSecrets!.Where(r => r.Name != secretName)] : null, cancellationToken);

    private async Task<V1ServiceAccount?> ChangeAsync(V1ServiceAccount account, Func<V1ServiceAccount, List<V1LocalObjectReference>?> change, CancellationToken cancellationToken)
    {
        var current = account;
        for (var attempt = 1; ; attempt++)
        {
            if (change(current) is not { } references)
                return current; // nothing to do
            var patch = new JsonObject
            {
                ["metadata"] = new JsonObject { ["resourceVersion"] = current.Metadata.ResourceVersion },
                ["imagePullSecrets"] = JsonNode.Parse(KubernetesJson.Serialize(references)),
            };
            try
            {
                return await client.CoreV1.PatchNamespacedServiceAccountAsync(
                    new V1Patch(patch.ToJsonString(), V1Patch.PatchType.MergePatch), current.Metadata.Name, current.Metadata.NamespaceProperty,
                    cancellationToken: cancellationToken);
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict && attempt < MaxAttempts)
            {
                Interlocked.Increment(ref _conflicts);
                try
                {
                    current = await client.CoreV1.ReadNamespacedServiceAccountAsync(current.Metadata.Name, current.Metadata.NamespaceProperty, cancellationToken: cancellationToken);
                }
                catch (HttpOperationException gone) when (gone.Response.StatusCode == HttpStatusCode.NotFound)
                {
                    return null;
                }
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
            {
                return null;
            }
        }
    }
}
