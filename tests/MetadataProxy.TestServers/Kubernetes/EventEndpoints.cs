using k8s;
using k8s.Models;

namespace MetadataProxy.TestServers.Kubernetes;

/// <summary><c>POST /api/v1/namespaces/{ns}/events</c>: checks what the real API server checks and records the Event.</summary>
internal static class EventEndpoints
{
    public static void MapEvents(this IEndpointRouteBuilder app) =>
        app.MapPost("/api/v1/namespaces/{ns}/events", async (HttpContext context, ServerCounters counters, ServerSettings settings, string ns) =>
        {
            await settings.EventStall.WaitAsync(context.RequestAborted);
            using var reader = new StreamReader(context.Request.Body);
            var created = KubernetesJson.Deserialize<Corev1Event>(await reader.ReadToEndAsync(context.RequestAborted));
            if (created.InvolvedObject is null)
                return KubeResults.Status(KubeStatus.Invalid("", "Event", created.Metadata?.Name ?? "", "involvedObject", "null", "Required value"));
            if (created.InvolvedObject.NamespaceProperty != ns || (created.Metadata?.NamespaceProperty is { } own && own != ns))
                return KubeResults.Status(KubeStatus.Invalid("", "Event", created.Metadata?.Name ?? "", "involvedObject.namespace", created.InvolvedObject.NamespaceProperty ?? "", "does not match event.namespace"));
            created.Metadata ??= new V1ObjectMeta();
            created.Metadata.NamespaceProperty = ns;
            created.Metadata.Name ??= (created.Metadata.GenerateName ?? "event.") + Guid.NewGuid().ToString("N")[..10];
            created.Metadata.Uid = Guid.NewGuid().ToString();
            counters.EventCreated(created);
            return KubeResults.Object(created, StatusCodes.Status201Created);
        });
}
