using System.Text.Json;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;

namespace MetadataProxy.TestServers.Kubernetes;

/// <summary>
/// ServiceAccount list (all namespaces or one) and PATCH with a JSON merge patch (RFC 7386), where
/// <c>metadata.resourceVersion</c> in the patch is a precondition: 409 when the account has changed since.
/// </summary>
internal static class ServiceAccountEndpoints
{
    public static void MapServiceAccounts(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v1/serviceaccounts", (ClusterStore store, ServerCounters counters) => List(store, counters, null));
        app.MapGet("/api/v1/namespaces/{ns}/serviceaccounts", (ClusterStore store, ServerCounters counters, string ns) => List(store, counters, ns));
        app.MapMethods("/api/v1/namespaces/{ns}/serviceaccounts/{name}", ["PATCH"], PatchAsync);
    }

    private static IResult List(ClusterStore store, ServerCounters counters, string? ns)
    {
        counters.ServiceAccountList();
        var (version, items) = store.ListServiceAccounts(ns);
        return KubeResults.Object(new V1ServiceAccountList
        {
            ApiVersion = "v1",
            Kind = "ServiceAccountList",
            Metadata = new V1ListMeta { ResourceVersion = KubeObjects.Format(version) },
            Items = items,
        });
    }

    private static async Task<IResult> PatchAsync(HttpContext context, ClusterStore store, ServerCounters counters, string ns, string name)
    {
        counters.ServiceAccountPatch();
        if (context.Request.ContentType?.StartsWith("application/merge-patch+json", StringComparison.Ordinal) != true)
            return KubeResults.Status(KubeStatus.Failure(415, "UnsupportedMediaType", $"the test server accepts merge patches of ServiceAccounts only, not {context.Request.ContentType}"));
        JsonObject? patch;
        try
        {
            patch = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted) as JsonObject;
        }
        catch (JsonException e)
        {
            return KubeResults.Status(KubeStatus.BadRequest($"invalid merge patch: {e.Message}"));
        }

        if (patch is null)
            return KubeResults.Status(KubeStatus.BadRequest("a merge patch must be a JSON object"));
        if (counters.TakeServiceAccountInterference())
            store.PatchServiceAccount(ns, name, sa => Annotated(sa), () => null);
        var (account, failure) = store.PatchServiceAccount(ns, name,
            current => KubernetesJson.Deserialize<V1ServiceAccount>(Merge(JsonNode.Parse(KubernetesJson.Serialize(current)), patch)!.ToJsonString()),
            () => (string?)patch["metadata"]?["resourceVersion"]);
        return account is null ? KubeResults.Status(failure!) : KubeResults.Object(account);
    }

    /// <summary>Another writer's change: an annotation of its own.</summary>
    private static V1ServiceAccount Annotated(V1ServiceAccount account)
    {
        (account.Metadata.Annotations ??= new Dictionary<string, string>())["test.invalid/other-writer"] = Guid.NewGuid().ToString("N")[..8];
        return account;
    }

    /// <summary>RFC 7386: objects merge member by member, null removes, anything else replaces.</summary>
    private static JsonNode? Merge(JsonNode? target, JsonNode? patch)
    {
        if (patch is not JsonObject patchObject)
            return patch?.DeepClone();
        var result = target as JsonObject ?? new JsonObject();
        foreach (var (key, value) in patchObject)
        {
            if (value is null)
                result.Remove(key);
            else
                result[key] = Merge(result[key]?.DeepClone(), value);
        }

        return result;
    }
}
