using System.Net;
using k8s.Models;
using MetadataProxy.Benchmarks.Floors;
using MetadataProxy.TestServers.Google;
using MetadataProxy.TestServers.Kubernetes;

namespace MetadataProxy.Benchmarks.ColdPath;

/// <summary>
/// The pods of the cold requests, each with its own Kubernetes and Google service account, on addresses 127.0.2.1
/// onwards (the hot pods of <see cref="FloorsBenchmark"/> use 127.0.0.1 and 127.0.1.x). The pods are added before their
/// ServiceAccounts: the server's token prefetch for a new pod (TokenMaintenance) then finds no account and fetches
/// nothing, so the pod's first token request is the one that pays TokenRequest + STS + IAM.
/// </summary>
internal sealed record ColdPod(IPAddress Address, string Namespace, string Name, string Uid, string GoogleServiceAccount)
{
    public const string ColdNamespace = "cold";

    public static IReadOnlyList<ColdPod> AddPods(KubernetesTestServer kube, GoogleTestServer google, int count)
    {
        var pods = new List<ColdPod>(count);
        for (var i = 0; i < count; i++)
        {
            var name = $"cold-{i}";
            var address = IPAddress.Parse($"127.0.{2 + (i / 200)}.{1 + (i % 200)}");
            var gsa = $"cold-{i}@test-project.iam.gserviceaccount.com";
            google.AllowImpersonation(GoogleTestServer.PrincipalFor(FloorsBenchmark.ProjectNumber, FloorsBenchmark.PoolId, $"system:serviceaccount:{ColdNamespace}:{name}"), gsa);
            var pod = kube.AddPod(new V1Pod
            {
                Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ColdNamespace },
                Spec = new V1PodSpec { NodeName = "bench-node", ServiceAccountName = name, Containers = [new V1Container { Name = "app", Image = "app" }] },
                Status = new V1PodStatus { Phase = "Running", PodIP = address.ToString(), PodIPs = [new V1PodIP { Ip = address.ToString() }] },
            });
            pods.Add(new ColdPod(address, ColdNamespace, name, pod.Metadata.Uid, gsa));
        }

        return pods;
    }

    public void AddServiceAccount(KubernetesTestServer kube) => kube.AddServiceAccount(new V1ServiceAccount
    {
        Metadata = new V1ObjectMeta { Name = Name, NamespaceProperty = Namespace, Annotations = new Dictionary<string, string> { ["iam.gke.io/gcp-service-account"] = GoogleServiceAccount } },
    });
}
