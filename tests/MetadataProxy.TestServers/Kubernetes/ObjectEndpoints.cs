
namespace MetadataProxy.TestServers.Kubernetes;

/// <summary>Get a ServiceAccount or a Node by name.</summary>
internal static class ObjectEndpoints
{
    public static void MapObjects(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v1/namespaces/{ns}/serviceaccounts/{name}", (ClusterStore store, ServerCounters counters, string ns, string name) =>
        {
            counters.ServiceAccountGet();
            return store.GetServiceAccount(ns, name) is { } sa
                ? KubeResults.Object(sa)
                : KubeResults.Status(KubeStatus.NotFound("serviceaccounts", name));
        });
        app.MapGet("/api/v1/nodes/{name}", (ClusterStore store, ServerCounters counters, string name) =>
        {
            counters.NodeGet();
            return store.GetNode(name) is { } node ? KubeResults.Object(node) : KubeResults.Status(KubeStatus.NotFound("nodes", name));
        });
        app.MapMethods("/api/v1/nodes/{name}", ["PATCH"], NodePatch.ApplyAsync);
    }
}
