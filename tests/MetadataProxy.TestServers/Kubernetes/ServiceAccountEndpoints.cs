using System.Text.Json;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;

namespace MetadataProxy.TestServers.Kubernetes;

/// <summary>
/// ServiceAccount list (all namespaces or one; chunked with <c>limit</c>/<c>continue</c>), watch (<c>watch=true</c>,
/// from a resourceVersion, with bookmarks, 410 Expired when too old) and PATCH with a JSON merge patch (RFC 7386),
/// where <c>metadata.resourceVersion</c> in the patch is a precondition: 409 when the account has changed since.
/// </summary>
internal static class ServiceAccountEndpoints
{
    public static void MapServiceAccounts(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v1/serviceaccounts", (HttpContext context, ClusterStore store, ServerSettings settings, ServerCounters counters) =>
            ListOrWatchAsync(context, store, settings, counters, null));
        app.MapGet("/api/v1/namespaces/{ns}/serviceaccounts", (HttpContext context, ClusterStore store, ServerSettings settings, ServerCounters counters, string ns) =>
            ListOrWatchAsync(context, store, settings, counters, ns));
        app.MapMethods("/api/v1/namespaces/{ns}/serviceaccounts/{name}", ["PATCH"], PatchAsync);
    }

    private static async Task ListOrWatchAsync(HttpContext context, ClusterStore store, ServerSettings settings, ServerCounters counters, string? ns)
    {
        var query = context.Request.Query;
        if (!string.IsNullOrEmpty(query["labelSelector"]) || !string.IsNullOrEmpty(query["fieldSelector"]))
        {
            await KubeResults.WriteStatusAsync(context, KubeStatus.BadRequest("selectors on ServiceAccounts are not supported by the Kubernetes test server"));
            return;
        }

        var (valid, watch) = await WatchRequest.ReadAsync(context);
        if (!valid)
            return;
        if (watch is not null)
        {
            counters.ServiceAccountWatch();
            await WatchStream.RunAsync<V1ServiceAccount>(context, store, settings, watch, "ServiceAccount",
                sa => ns is null || string.Equals(sa.Metadata.NamespaceProperty, ns, StringComparison.Ordinal));
            return;
        }

        string? resourceVersion = query["resourceVersion"];
        string? continueToken = query["continue"];
        if (!string.IsNullOrEmpty(continueToken) && !string.IsNullOrEmpty(resourceVersion))
        {
            await KubeResults.WriteStatusAsync(context, KubeStatus.BadRequest("specifying resource version is not allowed when using continue"));
            return;
        }

        if (!string.IsNullOrEmpty(query["limit"]) && !int.TryParse(query["limit"], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out _))
        {
            await KubeResults.WriteStatusAsync(context, KubeStatus.BadRequest($"invalid limit: {query["limit"]}"));
            return;
        }

        // resourceVersion=0 is served from the watch cache, which ignores limit and answers everything at once.
        int? limit = resourceVersion == "0" ? null : int.TryParse(query["limit"], out var l) && l > 0 ? l : null;
        counters.ServiceAccountList(resourceVersion);
        if (counters.TakeServiceAccountListFailure())
        {
            await KubeResults.WriteStatusAsync(context, KubeStatus.Failure(500, "InternalError", "Internal error occurred: etcdserver: request timed out"));
            return;
        }

        var (chunk, failure) = store.ListServiceAccounts(ns, limit, continueToken);
        if (chunk is null)
        {
            await KubeResults.WriteStatusAsync(context, failure!);
            return;
        }

        foreach (var item in chunk.Items)
        {
            // List items travel without kind/apiVersion (kubernetes/kubernetes#3030).
            item.Kind = null;
            item.ApiVersion = null;
        }

        await KubeResults.Object(new V1ServiceAccountList
        {
            ApiVersion = "v1",
            Kind = "ServiceAccountList",
            Metadata = new V1ListMeta { ResourceVersion = KubeObjects.Format(chunk.ResourceVersion), ContinueProperty = chunk.Continue, RemainingItemCount = chunk.RemainingItemCount },
            Items = chunk.Items,
        }).ExecuteAsync(context);
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
