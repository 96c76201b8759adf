using k8s.Models;

namespace MetadataProxy.TestServers.Kubernetes;

/// <summary>The selectable fields of a Pod, as pkg/registry/core/pod/strategy.go ToSelectableFields computes them.</summary>
internal static class PodFields
{
    /// <summary>Maps a field label to the one the server indexes (pkg/apis/core/v1/conversion.go), or null if unsupported.</summary>
    public static string? Canonical(string label) => label switch
    {
        "spec.host" => "spec.nodeName", // old v1 clients
        "metadata.name" or "metadata.namespace" or "spec.nodeName" or "spec.restartPolicy" or "spec.schedulerName"
            or "spec.serviceAccountName" or "spec.hostNetwork" or "status.phase" or "status.podIP"
            or "status.nominatedNodeName" => label,
        _ => null,
    };

    public static string ValueOf(V1Pod pod, string canonicalField) => canonicalField switch
    {
        "metadata.name" => pod.Metadata?.Name ?? string.Empty,
        "metadata.namespace" => pod.Metadata?.NamespaceProperty ?? string.Empty,
        "spec.nodeName" => pod.Spec?.NodeName ?? string.Empty,
        "spec.restartPolicy" => pod.Spec?.RestartPolicy ?? string.Empty,
        "spec.schedulerName" => pod.Spec?.SchedulerName ?? string.Empty,
        "spec.serviceAccountName" => pod.Spec?.ServiceAccountName ?? string.Empty,
        "spec.hostNetwork" => (pod.Spec?.HostNetwork ?? false) ? "true" : "false",
        "status.phase" => pod.Status?.Phase ?? string.Empty,

        // Only the first IP: the server never indexes status.podIPs[1..].
        "status.podIP" => pod.Status?.PodIPs is { Count: > 0 } ips ? ips[0].Ip ?? string.Empty : string.Empty,
        "status.nominatedNodeName" => pod.Status?.NominatedNodeName ?? string.Empty,
        _ => throw new ArgumentOutOfRangeException(nameof(canonicalField), canonicalField, null),
    };
}
