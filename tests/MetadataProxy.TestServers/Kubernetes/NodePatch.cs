using System.Text.Json;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;

namespace MetadataProxy.TestServers.Kubernetes;

/// <summary>
/// <c>PATCH /api/v1/nodes/{name}</c> with a JSON merge patch, as far as the server under test uses it: replacing
/// <c>spec.taints</c>, with <c>metadata.resourceVersion</c> as an optimistic-concurrency precondition (409 when stale).
/// </summary>
internal static class NodePatch
{
    public static async Task<IResult> ApplyAsync(HttpContext context, ClusterStore store, ServerCounters counters, string name)
    {
        counters.NodePatch();
        if (context.Request.ContentType?.StartsWith("application/merge-patch+json", StringComparison.Ordinal) != true)
            return KubeResults.Status(KubeStatus.Failure(415, "UnsupportedMediaType", $"the test server accepts merge patches only, not {context.Request.ContentType}"));

        JsonObject? patch;
        try
        {
            patch = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted) as JsonObject;
        }
        catch (JsonException e)
        {
            return KubeResults.Status(KubeStatus.BadRequest($"invalid merge patch: {e.Message}"));
        }

        if (patch is null || patch.Any(p => p.Key is not ("metadata" or "spec"))
            || (patch["spec"] as JsonObject)?.Any(p => p.Key != "taints") == true
            || (patch["metadata"] as JsonObject)?.Any(p => p.Key != "resourceVersion") == true)
            return KubeResults.Status(KubeStatus.BadRequest("the test server patches spec.taints (with metadata.resourceVersion) only"));

        var current = store.GetNode(name);
        if (current is null)
            return KubeResults.Status(KubeStatus.NotFound("nodes", name));
        var expected = (string?)patch["metadata"]?["resourceVersion"];
        if (expected is not null && expected != current.Metadata.ResourceVersion)
            return KubeResults.Status(KubeStatus.Conflict("nodes", name, "the object has been modified; please apply your changes to the latest version and try again"));

        var taints = patch["spec"]?["taints"] is JsonArray array ? KubernetesJson.Deserialize<List<V1Taint>>(array.ToJsonString()) : null;
        var updated = store.UpdateNode(name, node =>
        {
            node.Spec ??= new V1NodeSpec();
            node.Spec.Taints = taints;
        });
        return KubeResults.Object(updated);
    }
}
