using System.Net;
using k8s.Models;

namespace MetadataProxy.Pods;

internal static class PodRecords
{
    public static PodRecord From(V1Pod pod)
    {
        var addresses = (pod.Status?.PodIPs ?? [])
            .Select(p => p.Ip)
            .Append(pod.Status?.PodIP)
            .Select(ip => IPAddress.TryParse(ip, out var address) ? Normalise(address) : null)
            .OfType<IPAddress>()
            .Distinct()
            .ToArray();
        return new PodRecord(
            pod.Metadata.Uid,
            pod.Metadata.NamespaceProperty,
            pod.Metadata.Name,
            string.IsNullOrEmpty(pod.Spec?.ServiceAccountName) ? "default" : pod.Spec.ServiceAccountName,
            addresses,
            pod.Status?.Phase,
            pod.Spec?.HostNetwork == true,
            pod.Metadata.DeletionTimestamp is not null)
        {
            ContainersStopped = pod.Status?.ContainerStatuses is { Count: > 0 } statuses && statuses.All(c => c.State?.Terminated is not null),
        };
    }

    public static IPAddress Normalise(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
}
