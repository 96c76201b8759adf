using k8s.Models;

namespace MetadataProxy.FunctionalTests.TestServers.Kubernetes;

internal static class TestPods
{
    public static V1Pod Running(string ns, string name, string node, string ip, string serviceAccount = "default", params string[] moreIps) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns },
        Spec = new V1PodSpec
        {
            NodeName = node,
            ServiceAccountName = serviceAccount,
            Containers = [new V1Container { Name = "app", Image = "registry.example/app:1" }],
        },
        Status = new V1PodStatus
        {
            Phase = "Running",
            PodIP = ip,
            PodIPs = [new V1PodIP { Ip = ip }, .. moreIps.Select(i => new V1PodIP { Ip = i })],
        },
    };

    public static V1ServiceAccount ServiceAccount(string ns, string name) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns },
    };

    public static V1Node Node(string name) => new() { Metadata = new V1ObjectMeta { Name = name } };
}
