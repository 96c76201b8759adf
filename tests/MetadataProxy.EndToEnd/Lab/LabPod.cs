namespace MetadataProxy.EndToEnd.Lab;

/// <summary>A network namespace playing a pod on the lab's node, attached to the node's pod bridge.</summary>
public sealed record LabPod(string Name, string Namespace, IPAddress IPv4, IPAddress IPv6);
