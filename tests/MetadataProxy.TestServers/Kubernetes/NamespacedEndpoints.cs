using System.Text.Json;
using k8s;
using k8s.Models;

namespace MetadataProxy.TestServers.Kubernetes;

/// <summary>
/// GET, POST, PUT and DELETE of one namespaced kind (<c>{prefix}/namespaces/{ns}/{resource}[/{name}]</c>), answered
/// as the kube-apiserver does: 201 on create, the object on get and update, a Success Status on delete, a Status on failure.
/// </summary>
internal static class NamespacedEndpoints
{
    public static void MapSecrets(this IEndpointRouteBuilder app, ClusterStore store) => app.MapNamespaced("/api/v1", store.Secrets);

    public static void MapLeases(this IEndpointRouteBuilder app, ClusterStore store) => app.MapNamespaced("/apis/coordination.k8s.io/v1", store.Leases);

    private static void MapNamespaced<T>(this IEndpointRouteBuilder app, string prefix, ObjectStore<T> store)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        var collection = $"{prefix}/namespaces/{{ns}}/{store.Resource}";
        var item = collection + "/{name}";
        app.MapGet(item, (string ns, string name) =>
            store.Get(ns, name) is { } found ? KubeResults.Object(found) : KubeResults.Status(KubeStatus.NotFound(store.Resource, name)));
        app.MapPost(collection, async (HttpContext context, string ns) =>
        {
            var (body, bad) = await ReadAsync<T>(context);
            if (body is null)
                return KubeResults.Status(bad!);
            var (created, failure) = store.Create(ns, body);
            return created is null ? KubeResults.Status(failure!) : KubeResults.Object(created, StatusCodes.Status201Created);
        });
        app.MapPut(item, async (HttpContext context, string ns, string name) =>
        {
            var (body, bad) = await ReadAsync<T>(context);
            if (body is null)
                return KubeResults.Status(bad!);
            var (updated, failure) = store.Update(ns, name, body);
            return updated is null ? KubeResults.Status(failure!) : KubeResults.Object(updated);
        });
        app.MapDelete(item, async (HttpContext context, string ns, string name) =>
        {
            string? uid = null;
            if (context.Request.ContentLength is > 0 || context.Request.Headers.TransferEncoding.Count > 0)
            {
                var (options, bad) = await ReadAsync<V1DeleteOptions>(context);
                if (options is null)
                    return KubeResults.Status(bad!);
                uid = options.Preconditions?.Uid;
            }

            return KubeResults.Status(store.Delete(ns, name, uid)); // a Success Status (200) or the failure's
        });
    }

    internal static async Task<(TBody? Body, V1Status? Failure)> ReadAsync<TBody>(HttpContext context)
        where TBody : class
    {
        try
        {
            using var reader = new StreamReader(context.Request.Body);
            var text = await reader.ReadToEndAsync(context.RequestAborted);
            return KubernetesJson.Deserialize<TBody>(text) is { } body
                ? (body, null)
                : (null, KubeStatus.BadRequest("the body of the request was empty"));
        }
        catch (JsonException e)
        {
            return (null, KubeStatus.BadRequest($"the body of the request was in an unknown format: {e.Message}"));
        }
    }
}
