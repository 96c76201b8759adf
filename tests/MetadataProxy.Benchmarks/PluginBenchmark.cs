using System.Globalization;
using System.Text.Json;
using k8s.Models;
using MetadataProxy.TestServers.Google;
using MetadataProxy.TestServers.Kubernetes;

namespace MetadataProxy.Benchmarks;

/// <summary>
/// The kubelet credential provider's start-to-answer time with a cached token: the real server in Kubernetes mode
/// against the loopback test servers, with the node identity on the node socket; the NativeAOT plugin exec'd
/// <c>runs</c> times with a CredentialProviderRequest on stdin, as the kubelet execs it on a cache miss, and the same
/// number of execs of <c>/bin/true</c> (interleaved) as the floor no plugin can beat on this machine.
/// Usage: dotnet run -c Release --project tests/MetadataProxy.Benchmarks -- plugin [runs] [binary]
/// </summary>
internal static class PluginBenchmark
{
    private const string ProjectNumber = "123456789012";
    private const string PoolId = "bench-pool";
    private const string ServerNamespace = "metadata-proxy";
    private const string ServerServiceAccount = "metadata-proxy";
    private const string NodeGsa = "node-puller@test-project.iam.gserviceaccount.com";
    private const string Image = "us-docker.pkg.dev/bench/images/app:1";
    private const string Request = $$"""{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":"{{Image}}"}""";

    public static async Task RunAsync(string[] args)
    {
        var runs = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 200;
        var plugin = await PluginBinary.LocateAsync(args.Length > 1 ? args[1] : null);
        var directory = Directory.CreateTempSubdirectory("metadata-proxy-bench-");
        var socket = Path.Combine(directory.FullName, "run", "node.sock");

        await using var kube = await KubernetesTestServer.StartAsync();
        await using var google = await GoogleTestServer.StartAsync();
        var serverPod = RegisterNode(kube, google);
        var app = Program.Build(
        [
            "--Mode=Kubernetes", "--Listen:Metadata=http://127.0.0.1:0", "--Listen:Admin=http://127.0.0.1:0", $"--Listen:NodeSocket={socket}",
            "--Logging:LogLevel:Default=Warning",
            $"--Kubernetes:Kubeconfig={kube.WriteKubeconfig(Path.Combine(directory.FullName, "kubeconfig"))}", "--Kubernetes:NodeName=bench-node",
            "--WorkloadIdentity:ProjectId=test-project", $"--WorkloadIdentity:ProjectNumber={ProjectNumber}",
            $"--WorkloadIdentity:PoolId={PoolId}", "--WorkloadIdentity:ProviderId=kubernetes",
            $"--WorkloadIdentity:StsEndpoint={google.StsTokenUrl}", $"--WorkloadIdentity:IamCredentialsEndpoint={google.IamCredentialsBaseUrl}",
            // The DaemonSet's downward-API variables: the node identity is the server's own pod's ServiceAccount.
            $"--POD_NAME={serverPod.Metadata.Name}", $"--POD_UID={serverPod.Metadata.Uid}",
            $"--POD_NAMESPACE={ServerNamespace}", $"--POD_SERVICE_ACCOUNT={ServerServiceAccount}",
        ]);
        await app.StartAsync();
        try
        {
            string[] arguments = ["get-credentials", "--socket", socket];
            // Warm: the first exec makes the server fetch the node identity's token; every later one is a cache hit.
            var first = await ExecTiming.ExecAsync(plugin, arguments, Request);
            var password = NodePassword(first);
            if (google.DescribeAccessToken(password)?.ServiceAccountEmail != NodeGsa)
                throw new InvalidOperationException($"The plugin answered a token that is not {NodeGsa}'s.");
            var iamCallsBefore = google.GenerateAccessTokenCalls;

            var pluginTimes = new List<double>(runs);
            var floorTimes = new List<double>(runs);
            for (var i = 0; i < runs; i++)
            {
                var run = await ExecTiming.ExecAsync(plugin, arguments, Request);
                if (NodePassword(run) != password)
                    throw new InvalidOperationException("The plugin answered another token: the cache was missed.");
                pluginTimes.Add(run.Milliseconds);
                var floor = await ExecTiming.ExecAsync("/bin/true", [], Request);
                floorTimes.Add(floor.Milliseconds);
            }

            var (p50, p90, max) = ExecTiming.Percentiles(pluginTimes);
            var (f50, f90, fmax) = ExecTiming.Percentiles(floorTimes);
            Console.WriteLine($"{plugin}: {new FileInfo(plugin).Length / 1024 / 1024.0:0.0} MiB, {runs} execs each (interleaved), server Release={!BenchmarkCommand.IsDebug()}");
            Console.WriteLine($"first exec (token fetched from Google): {first.Milliseconds:0.00} ms");
            Console.WriteLine($"{"exec",-42} {"p50 ms",8} {"p90 ms",8} {"max ms",8}");
            Console.WriteLine($"{"plugin get-credentials (cached token)",-42} {p50,8:0.00} {p90,8:0.00} {max,8:0.00}");
            Console.WriteLine($"{"/bin/true (the floor)",-42} {f50,8:0.00} {f90,8:0.00} {fmax,8:0.00}");
            Console.WriteLine($"{"ratio plugin / floor",-42} {p50 / f50,8:0.0} {p90 / f90,8:0.0}");
            Console.WriteLine($"IAM calls during the measured execs: {google.GenerateAccessTokenCalls - iamCallsBefore} (each answer came from the token cache)");
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
            directory.Delete(recursive: true);
        }
    }

    // The node, the provider, and the server's own hostNetwork pod whose ServiceAccount is annotated with the node's GSA.
    private static V1Pod RegisterNode(KubernetesTestServer kube, GoogleTestServer google)
    {
        kube.AddNode(new V1Node
        {
            Metadata = new V1ObjectMeta { Name = "bench-node" },
            Status = new V1NodeStatus { Addresses = [new V1NodeAddress { Type = "InternalIP", Address = "127.0.0.250" }] },
        });
        google.AddProvider(ProjectNumber, PoolId, "kubernetes", kube.Issuer, JwksSource.FromJson(kube.JwksJson));
        google.AllowImpersonation(GoogleTestServer.PrincipalFor(ProjectNumber, PoolId, $"system:serviceaccount:{ServerNamespace}:{ServerServiceAccount}"), NodeGsa);
        kube.AddServiceAccount(new V1ServiceAccount
        {
            Metadata = new V1ObjectMeta
            {
                Name = ServerServiceAccount,
                NamespaceProperty = ServerNamespace,
                Annotations = new Dictionary<string, string> { ["iam.gke.io/gcp-service-account"] = NodeGsa },
            },
        });
        return kube.AddPod(new V1Pod
        {
            Metadata = new V1ObjectMeta { Name = "metadata-proxy-bench", NamespaceProperty = ServerNamespace },
            Spec = new V1PodSpec
            {
                NodeName = "bench-node",
                HostNetwork = true,
                ServiceAccountName = ServerServiceAccount,
                Containers = [new V1Container { Name = "metadata-proxy", Image = "metadata-proxy" }],
            },
            Status = new V1PodStatus { Phase = "Running", PodIP = "127.0.0.250", PodIPs = [new V1PodIP { Ip = "127.0.0.250" }] },
        });
    }

    // The password of the image's own registry in a successful CredentialProviderResponse.
    private static string NodePassword(ExecTiming.Run run)
    {
        if (run.ExitCode != 0)
            throw new InvalidOperationException($"The plugin exited {run.ExitCode}: {run.Stderr}");
        using var response = JsonDocument.Parse(run.Stdout);
        return response.RootElement.GetProperty("auth").GetProperty("us-docker.pkg.dev").GetProperty("password").GetString()
            ?? throw new InvalidOperationException($"No password in {run.Stdout}");
    }
}
