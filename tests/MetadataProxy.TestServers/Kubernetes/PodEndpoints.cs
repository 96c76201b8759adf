using k8s.Models;

namespace MetadataProxy.TestServers.Kubernetes;

/// <summary>List, watch and get pods: <c>/api/v1/pods</c>, <c>/api/v1/namespaces/{ns}/pods[/{name}]</c>.</summary>
internal static class PodEndpoints
{
    public static void MapPods(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v1/pods", (HttpContext context, ClusterStore store, ServerSettings settings, ServerCounters counters) =>
            ListOrWatchAsync(context, store, settings, counters, null));
        app.MapGet("/api/v1/namespaces/{ns}/pods", (HttpContext context, ClusterStore store, ServerSettings settings, ServerCounters counters, string ns) =>
            ListOrWatchAsync(context, store, settings, counters, ns));
        app.MapGet("/api/v1/namespaces/{ns}/pods/{name}", (ClusterStore store, ServerCounters counters, string ns, string name) =>
        {
            counters.PodGet();
            return store.GetPod(ns, name) is { } pod ? KubeResults.Object(pod) : KubeResults.Status(KubeStatus.NotFound("pods", name));
        });
    }

    private static async Task ListOrWatchAsync(HttpContext context, ClusterStore store, ServerSettings settings, ServerCounters counters, string? ns)
    {
        var query = context.Request.Query;
        if (!PodFieldSelector.TryParse(query["fieldSelector"], out var selector, out var error))
        {
            await KubeResults.WriteStatusAsync(context, KubeStatus.BadRequest(error!));
            return;
        }

        if (!string.IsNullOrEmpty(query["labelSelector"]))
        {
            await KubeResults.WriteStatusAsync(context, KubeStatus.BadRequest("labelSelector is not supported by the Kubernetes test server"));
            return;
        }

        var (valid, watch) = await WatchRequest.ReadAsync(context);
        if (!valid)
            return;
        if (watch is not null)
        {
            counters.PodWatch();
            counters.WatchProtocol(context.Request.Protocol);
            await WatchStream.RunAsync<V1Pod>(context, store, settings, watch, "Pod",
                pod => (ns is null || string.Equals(pod.Metadata.NamespaceProperty, ns, StringComparison.Ordinal)) && selector.Matches(pod));
            return;
        }

        string? asked = query["resourceVersion"];
        counters.PodList(asked);
        _ = WatchRequest.TryParseResourceVersion(asked, out var resourceVersion); // ReadAsync has refused a bad one
        var (current, items, failure) = store.ListPods(p => (ns is null || p.Metadata.NamespaceProperty == ns) && selector.Matches(p), resourceVersion);
        if (failure is not null)
        {
            await KubeResults.WriteStatusAsync(context, failure);
            return;
        }

        foreach (var item in items)
        {
            // List items travel without kind/apiVersion (kubernetes/kubernetes#3030).
            item.Kind = null;
            item.ApiVersion = null;
        }

        var list = new V1PodList
        {
            Kind = "PodList",
            ApiVersion = "v1",
            Metadata = new V1ListMeta { ResourceVersion = KubeObjects.Format(current) },
            Items = items,
        };
        await KubeResults.Object(list).ExecuteAsync(context);
    }
}
