using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using k8s.Models;
using MetadataProxy.Hosting;
using MetadataProxy.TestServers.Google;
using MetadataProxy.TestServers.Kubernetes;
using Microsoft.Extensions.DependencyInjection;

namespace MetadataProxy.Benchmarks;

/// <summary>
/// The hot path, measured: the server in Kubernetes mode against the loopback test servers, clients bound to pod
/// addresses, the same load on four requests in one run. Results are ratios to the ping, so they compare across
/// machines; absolute numbers describe only this machine. Usage: dotnet run -c Release --project tests/MetadataProxy.Benchmarks [seconds] [clients]
/// </summary>
internal static class HotPathBenchmark
{
    public static async Task RunAsync(string[] args)
    {
        var seconds = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 5;
        var clients = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 8;
        const string Gsa = "bench@test-project.iam.gserviceaccount.com";

        await using var kube = await KubernetesTestServer.StartAsync();
        await using var google = await GoogleTestServer.StartAsync();
        kube.AddNode(new V1Node { Metadata = new V1ObjectMeta { Name = "bench-node" } });
        google.AddProvider("123456789012", "bench-pool", "kubernetes", kube.Issuer, JwksSource.FromJson(kube.JwksJson));
        google.AllowImpersonation(GoogleTestServer.PrincipalFor("123456789012", "bench-pool", "system:serviceaccount:bench:app"), Gsa);
        kube.AddServiceAccount(new V1ServiceAccount
        {
            Metadata = new V1ObjectMeta { Name = "app", NamespaceProperty = "bench", Annotations = new Dictionary<string, string> { ["iam.gke.io/gcp-service-account"] = Gsa } },
        });
        var pods = Enumerable.Range(0, clients).Select(i => IPAddress.Parse($"127.0.1.{i + 1}")).ToArray();
        foreach (var ip in pods)
        {
            kube.AddPod(new V1Pod
            {
                Metadata = new V1ObjectMeta { Name = $"app-{ip.GetAddressBytes()[3]}", NamespaceProperty = "bench" },
                Spec = new V1PodSpec { NodeName = "bench-node", ServiceAccountName = "app", Containers = [new V1Container { Name = "app", Image = "app" }] },
                Status = new V1PodStatus { Phase = "Running", PodIP = ip.ToString(), PodIPs = [new V1PodIP { Ip = ip.ToString() }] },
            });
        }

        var kubeconfig = kube.WriteKubeconfig(Path.Combine(Path.GetTempPath(), $"bench-kubeconfig-{Environment.ProcessId}"));
        var app = Program.Build(
        [
            "--Mode=Kubernetes", "--Listen:Metadata=http://127.0.0.1:0", "--Listen:Admin=http://127.0.0.1:0", "--Listen:NodeSocket=", "--Logging:LogLevel:Default=Warning",
            $"--Kubernetes:Kubeconfig={kubeconfig}", "--Kubernetes:NodeName=bench-node",
            "--WorkloadIdentity:ProjectId=test-project", "--WorkloadIdentity:ProjectNumber=123456789012",
            "--WorkloadIdentity:PoolId=bench-pool", "--WorkloadIdentity:ProviderId=kubernetes",
            $"--WorkloadIdentity:StsEndpoint={google.StsTokenUrl}", $"--WorkloadIdentity:IamCredentialsEndpoint={google.IamCredentialsBaseUrl}",
        ]);
        await app.StartAsync();
        try
        {
            var server = app.Services.GetRequiredService<Listeners>().MetadataEndpoints[0];
            var cases = new (string Name, string Path)[]
            {
                ("ping /", "/"),
                ("value project-id", "/computeMetadata/v1/project/project-id"),
                ("caller email", "/computeMetadata/v1/instance/service-accounts/default/email"),
                ("cached token", "/computeMetadata/v1/instance/service-accounts/default/token"),
            };

            // Warm up: every pod resolved, its token fetched and cached.
            foreach (var (_, path) in cases)
                await RunAsync(server, pods, path, TimeSpan.FromSeconds(1));
            var iamCallsBefore = google.GenerateAccessTokenCalls;

            Console.WriteLine($"{clients} clients on pod addresses, {seconds} s per request, Kubernetes mode, Release={!BenchmarkCommand.IsDebug()}");
            Console.WriteLine($"{"request",-18} {"req/s",10} {"p50 ms",8} {"p99 ms",8} {"ratio to ping",14} {"non-200",8}");
            double? ping = null;
            foreach (var (name, path) in cases)
            {
                var result = await RunAsync(server, pods, path, TimeSpan.FromSeconds(seconds));
                ping ??= result.PerSecond;
                Console.WriteLine($"{name,-18} {result.PerSecond,10:0} {result.P50,8:0.000} {result.P99,8:0.000} {result.PerSecond / ping.Value,14:0.00} {result.Failures,8}");
            }

            Console.WriteLine($"IAM calls during the measured runs: {google.GenerateAccessTokenCalls - iamCallsBefore} (the token path never waited on Google)");
        }
        finally
        {
            await app.StopAsync();
            File.Delete(kubeconfig);
        }
    }

    private static async Task<(double PerSecond, double P50, double P99, int Failures)> RunAsync(IPEndPoint server, IPAddress[] pods, string path, TimeSpan duration)
    {
        var latencies = new List<double>[pods.Length];
        var failures = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(pods.Select(async (pod, i) =>
        {
            latencies[i] = [];
            using var client = Client(server, pod);
            while (clock.Elapsed < duration)
            {
                var started = Stopwatch.GetTimestamp();
                using var request = new HttpRequestMessage(HttpMethod.Get, path);
                request.Headers.Add("Metadata-Flavor", "Google");
                using var response = await client.SendAsync(request);
                await response.Content.ReadAsByteArrayAsync();
                latencies[i].Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                if (response.StatusCode != HttpStatusCode.OK)
                    Interlocked.Increment(ref failures);
            }
        }));
        var all = latencies.SelectMany(l => l).Order().ToArray();
        return (all.Length / clock.Elapsed.TotalSeconds, all[all.Length / 2], all[(int)(all.Length * 0.99)], failures);
    }

    private static HttpClient Client(IPEndPoint server, IPAddress source) => new(new SocketsHttpHandler
    {
        UseProxy = false,
        ConnectCallback = async (context, ct) =>
        {
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            socket.Bind(new IPEndPoint(source, 0));
            await socket.ConnectAsync(context.DnsEndPoint, ct);
            return new NetworkStream(socket, ownsSocket: true);
        },
    })
    { BaseAddress = new Uri($"http://{server}/") };
}
