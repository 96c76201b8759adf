using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using k8s.Models;
using MetadataProxy.TestServers.Google;
using MetadataProxy.TestServers.Kubernetes;

namespace MetadataProxy.Benchmarks.Floors;

/// <summary>
/// The hot path against floors outside the server, in one run: nginx serving the token JSON's bytes from a file (when
/// installed), a bare Kestrel minimal API serving the same bytes, and the real server (its own process, Kubernetes
/// mode, against the loopback test servers in this process) with 110 pods on the node and their tokens cached. Each
/// server is pinned to core 0, wrk and this driver to core 1; wrk -t1 -c{connections} from 127.0.0.1, the address of
/// one of the 110 pods. Prints req/s, p50/p99 and RSS for each, the ratios to both floors, start → /readyz, RSS idle,
/// and the Google calls made during the measured runs (must be 0).
/// Usage: dotnet run -c Release --project tests/MetadataProxy.Benchmarks -- hotpath [footprint] [seconds] [connections] [rounds] [VAR=value …]
/// (rounds, default 3: the four requests measured in turn that many times, each round starting one request further on;
/// round 1 is the JIT's tier-up and is printed but not in the ratios, which are the median of the later rounds).
/// (footprint: only start → /readyz and RSS idle with the 110 tokens cached, no load; incluster: the server reads the
/// in-cluster configuration over HTTPS, as in a pod, instead of a kubeconfig — needs root for its mount namespace).
/// (VAR=value: environment for the server process, e.g. DOTNET_gcServer=0, to measure runtime settings).
/// BENCH_SERVER_DLL=PATH runs another build of the server (before/after comparisons); BENCH_SERVER_EXE=PATH a native executable (a NativeAOT publish). With BENCH_TRACE=DIR, each measured server run is also traced (<see cref="Profiler"/>); its numbers then include the tracing.
/// </summary>
internal static class FloorsBenchmark
{
    internal const string ProjectNumber = "123456789012";
    internal const string PoolId = "bench-pool";
    private const int Pods = 110;
    internal const string ServerCore = "0";
    internal const string LoadCore = "1";

    public static async Task RunAsync(string[] args)
    {
        var footprintOnly = args.Contains("footprint");
        var inCluster = args.Contains("incluster");
        var numbers = args.Where(a => !a.Contains('=', StringComparison.Ordinal) && a is not "footprint" and not "incluster").ToArray();
        var seconds = numbers.Length > 0 ? int.Parse(numbers[0], CultureInfo.InvariantCulture) : 8;
        var connections = numbers.Length > 1 ? int.Parse(numbers[1], CultureInfo.InvariantCulture) : 64;
        var rounds = numbers.Length > 2 ? int.Parse(numbers[2], CultureInfo.InvariantCulture) : 3;
        var environment = args.Where(a => a.Contains('=', StringComparison.Ordinal)).Select(a => a.Split('=', 2)).ToDictionary(a => a[0], a => a[1]);
        if (Environment.ProcessorCount >= 2 && OperatingSystem.IsLinux())
            Process.GetCurrentProcess().ProcessorAffinity = 1 << int.Parse(LoadCore, CultureInfo.InvariantCulture);
        var directory = Directory.CreateTempSubdirectory("metadata-proxy-floors-");
        try
        {
            await RunAsync(seconds, connections, rounds, environment, directory.FullName, footprintOnly, inCluster);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    private static async Task RunAsync(int seconds, int connections, int rounds, Dictionary<string, string> environment, string directory, bool footprintOnly, bool inCluster)
    {
        await using var kube = inCluster ? await KubernetesTestServer.StartTlsAsync() : await KubernetesTestServer.StartAsync();
        await using var google = await GoogleTestServer.StartAsync();
        var addresses = RegisterPods(kube, google);
        await WarmPodListAsync(kube);
        var (program, leading) = ServerCommand();
        string kubernetesArgument;
        if (inCluster)
        {
            (program, leading) = InClusterCommand(kube, directory, program, leading, environment);
            kubernetesArgument = "--Kubernetes:Kubeconfig=";
        }
        else
        {
            kubernetesArgument = $"--Kubernetes:Kubeconfig={kube.WriteKubeconfig(Path.Combine(directory, "kubeconfig"))}";
        }

        Console.WriteLine($"{DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, load average {LoadAverage()}, server {string.Join(' ', leading.Prepend(program))}");
        Console.WriteLine($"server environment: {(environment.Count == 0 ? "(none)" : string.Join(' ', environment.Select(e => $"{e.Key}={e.Value}")))}");

        using var proxy = PinnedProcess.Start("MetadataProxy", ServerCore, program,
        [
            .. leading, "--Mode=Kubernetes", .. ServerListeners.Arguments,
            "--Listen:NodeSocket=", "--Logging:LogLevel:Default=Warning",
            kubernetesArgument, "--Kubernetes:NodeName=bench-node",
            "--WorkloadIdentity:ProjectId=test-project", $"--WorkloadIdentity:ProjectNumber={ProjectNumber}",
            $"--WorkloadIdentity:PoolId={PoolId}", "--WorkloadIdentity:ProviderId=kubernetes",
            $"--WorkloadIdentity:StsEndpoint={google.StsTokenUrl}", $"--WorkloadIdentity:IamCredentialsEndpoint={google.IamCredentialsBaseUrl}",
        ], environment);
        var (metadataPort, admin) = await ServerListeners.ReadAsync(proxy, TimeSpan.FromSeconds(30));
        var server = Uri(metadataPort, "/");
        var ready = await proxy.WaitForOkAsync(new Uri(admin, "readyz"), TimeSpan.FromSeconds(30));
        var cpuReady = proxy.CpuMilliseconds();
        var loadReady = LoadAverage();
        var rssReady = proxy.RssMiB();

        // Every pod asks once: 110 tokens cached, one per pod's Google service account.
        var tokenPath = "/computeMetadata/v1/instance/service-accounts/default/token";
        var token = Array.Empty<byte>();
        foreach (var address in addresses)
        {
            using var client = Client(address, server);
            var body = await TokenAsync(client, tokenPath);
            if (address.Equals(IPAddress.Loopback))
                token = body;
        }

        var file = Path.Combine(directory, "token.json");
        await File.WriteAllBytesAsync(file, token);
        await Task.Delay(TimeSpan.FromSeconds(2));
        var rssIdle = proxy.RssMiB();
        Console.WriteLine($"start -> /readyz 200: {ready.TotalMilliseconds:0} ms (CPU {cpuReady:0} ms, load average {loadReady}); RSS at ready {rssReady:0.0} MiB; idle with {Pods} pods' tokens cached {rssIdle:0.0} MiB");
        var mappings = proxy.RssByMapping();
        Console.WriteLine("idle RSS by mapping (MiB): " + string.Join(", ", mappings.Take(12).Select(m => $"{m.Mapping} {m.MiB:0.0}"))
            + $"; {mappings.Count - 12} more {mappings.Skip(12).Sum(m => m.MiB):0.0}");
        await Heap.PrintAsync(proxy, new Uri(admin, "metrics"));
        if (footprintOnly)
            return;
        Console.WriteLine($"wrk -t1 -c{connections} -d{seconds}s --latency, servers on core {ServerCore}, wrk on core {LoadCore}; token JSON {token.Length} bytes");
        Console.WriteLine($"{"server",-34} {"req/s",9} {"p50 ms",7} {"p99 ms",7} {"RSS MiB",8} {"non-2xx",8}");

        Wrk? nginx = null;
        if (NginxFloor.Locate() is { } nginxPath)
        {
            // nginx must be told its port: a fresh one, and another if it was taken before nginx bound it.
            var (started, port) = await PinnedProcess.StartOnAFreePortAsync(p => NginxFloor.Start(nginxPath, ServerCore, directory, file, p), p => Uri(p, "/"), TimeSpan.FromSeconds(10));
            using var floor = started;
            nginx = await MeasureAsync("nginx, static file (floor)", floor, Uri(port, "/"), connections, seconds, rss: false);
        }
        else
        {
            Console.WriteLine("nginx: not installed (apt-get install nginx-light), floor skipped");
        }

        Wrk kestrel;
        {
            using var floor = PinnedProcess.Start("Kestrel floor", ServerCore, Dotnet(), [typeof(KestrelFloor).Assembly.Location, "kestrel-floor", "0", file]);
            var port = await ServerListeners.LoopbackPortAsync(floor, TimeSpan.FromSeconds(10));
            await floor.WaitForOkAsync(Uri(port, "/"), TimeSpan.FromSeconds(10));
            kestrel = await MeasureAsync("bare Kestrel minimal API (floor)", floor, Uri(port, "/"), connections, seconds, rss: true);
        }

        var googleCallsBefore = google.StsCalls + google.GenerateAccessTokenCalls;
        var kubeCallsBefore = kube.TokenRequests;
        var cases = new (string Name, string Path)[]
        {
            ("ping GET /", "/"),
            ("listing .../default/", "/computeMetadata/v1/instance/service-accounts/default/"),
            ("email .../default/email", "/computeMetadata/v1/instance/service-accounts/default/email"),
            ("cached token .../default/token", tokenPath),
        };
        // Every request warmed before any is measured: the JIT's tiering of the shared pipeline must not favour the later ones.
        foreach (var (_, path) in cases)
            await Wrk.RunAsync(LoadCore, Uri(metadataPort, path), connections, Math.Max(2, seconds / 4), proxy);
        // Round 1 lets the tiered JIT finish on the one busy core (it took most of a minute of load here); the ratios
        // come from the later rounds, each starting one case further on, so no case is always measured first.
        var results = cases.ToDictionary(c => c.Name, _ => new List<Wrk>());
        var refused = 0L;
        for (var round = 1; round <= rounds; round++)
        {
            Console.WriteLine(round == 1 && rounds > 1 ? "round 1 (tier-up: not in the ratios)" : $"round {round}");
            for (var i = 0; i < cases.Length; i++)
            {
                var (name, path) = cases[(i + round - 1) % cases.Length];
                using var trace = Profiler.Attach(proxy, name, seconds);
                var result = await MeasureAsync(name, proxy, Uri(metadataPort, path), connections, seconds, rss: true);
                refused += result.Non2xx; // a refusal in the tier-up round invalidates the run too
                if (round > 1 || rounds == 1)
                    results[name].Add(result);
            }
        }

        var googleCalls = google.StsCalls + google.GenerateAccessTokenCalls - googleCallsBefore;
        var kubeCalls = kube.TokenRequests - kubeCallsBefore;
        Console.WriteLine($"MetadataProxy RSS: idle {rssIdle:0.0} MiB, peak {proxy.RssMiB(peak: true):0.0} MiB (VmHWM)");
        Console.WriteLine($"{(rounds > 1 ? $"ratio, median of rounds 2-{rounds}" : "ratio"),-34} {"/ nginx",9} {"/ Kestrel",9} {"p99 ms",7}");
        foreach (var (name, measured) in results)
        {
            var perSecond = Median(measured.Select(r => r.PerSecond));
            Console.WriteLine($"{name,-34} {(nginx is null ? "-" : (perSecond / nginx.PerSecond).ToString("0.00", CultureInfo.InvariantCulture)),9} {perSecond / kestrel.PerSecond,9:0.00} {Median(measured.Select(r => r.P99)),7:0.00}");
        }

        Console.WriteLine($"Google calls (STS + IAM) during the measured runs: {googleCalls}; TokenRequests: {kubeCalls}; load average now {LoadAverage()}");
        if (googleCalls != 0 || refused != 0)
        {
            Console.WriteLine("INVALID RUN: the token path called Google, or a request was not answered 200");
            Environment.ExitCode = 1;
        }
    }

    private static async Task<Wrk> MeasureAsync(string name, PinnedProcess target, Uri url, int connections, int seconds, bool rss)
    {
        await Wrk.RunAsync(LoadCore, url, connections, Math.Max(2, seconds / 4), target); // warm-up: JIT tiers, connections
        var loaded = double.NaN;
        var result = await Wrk.RunAsync(LoadCore, url, connections, seconds, target, value => loaded = value);
        Console.WriteLine($"{name,-34} {result.PerSecond,9:0} {result.P50,7:0.00} {result.P99,7:0.00} {(rss ? loaded.ToString("0.0", CultureInfo.InvariantCulture) : "-"),8} {result.Non2xx,8}");
        return result;
    }

    /// <summary>110 pods on bench-node, each with its own ServiceAccount and Google service account; pod 0 is 127.0.0.1 (wrk's address).</summary>
    internal static IPAddress[] RegisterPods(KubernetesTestServer kube, GoogleTestServer google)
    {
        kube.AddNode(new V1Node { Metadata = new V1ObjectMeta { Name = "bench-node" } });
        google.AddProvider(ProjectNumber, PoolId, "kubernetes", kube.Issuer, JwksSource.FromJson(kube.JwksJson));
        var addresses = Enumerable.Range(0, Pods).Select(i => i == 0 ? IPAddress.Loopback : IPAddress.Parse($"127.0.1.{i}")).ToArray();
        for (var i = 0; i < Pods; i++)
        {
            var name = $"app-{i}";
            var gsa = $"bench-{i}@test-project.iam.gserviceaccount.com";
            google.AllowImpersonation(GoogleTestServer.PrincipalFor(ProjectNumber, PoolId, $"system:serviceaccount:bench:{name}"), gsa);
            kube.AddServiceAccount(new V1ServiceAccount
            {
                Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "bench", Annotations = new Dictionary<string, string> { ["iam.gke.io/gcp-service-account"] = gsa } },
            });
            kube.AddPod(new V1Pod
            {
                Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "bench" },
                Spec = new V1PodSpec { NodeName = "bench-node", ServiceAccountName = name, Containers = [new V1Container { Name = "app", Image = "app" }] },
                Status = new V1PodStatus { Phase = "Running", PodIP = addresses[i].ToString(), PodIPs = [new V1PodIP { Ip = addresses[i].ToString() }] },
            });
        }

        return addresses;
    }

    /// <summary>A pod's first token; a retryable refusal (a loaded machine's Google call past its deadline) is retried.</summary>
    internal static async Task<byte[]> TokenAsync(HttpClient client, string path)
    {
        for (var attempt = 1; ; attempt++)
        {
            using var response = await client.GetAsync(path);
            if (response.StatusCode == HttpStatusCode.OK)
                return await response.Content.ReadAsByteArrayAsync();
            if (attempt == 20 || response.StatusCode != HttpStatusCode.ServiceUnavailable)
                throw new InvalidOperationException($"{path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            await Task.Delay(TimeSpan.FromSeconds(1));
        }
    }

    internal static HttpClient Client(IPAddress source, Uri server)
    {
        var client = new HttpClient(new SocketsHttpHandler
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
        { BaseAddress = server };
        client.DefaultRequestHeaders.Add("Metadata-Flavor", "Google");
        return client;
    }

    /// <summary>
    /// The server's program and its leading arguments: BENCH_SERVER_EXE=PATH runs a native executable (a NativeAOT
    /// publish, README: Performance) as it is; otherwise <c>dotnet</c> runs <see cref="ServerAssembly"/>.
    /// </summary>
    private static (string Program, string[] Leading) ServerCommand() =>
        Environment.GetEnvironmentVariable("BENCH_SERVER_EXE") is { Length: > 0 } exe ? (exe, []) : (Dotnet(), [ServerAssembly()]);

    /// <summary>
    /// The server as a pod runs it in a cluster: the in-cluster configuration (KUBERNETES_SERVICE_HOST/PORT, the
    /// service-account volume at /var/run/secrets/kubernetes.io/serviceaccount) instead of a kubeconfig, so that start →
    /// ready pays what it pays on a node. The volume is a tmpfs over /run in a mount namespace of the server's own
    /// (<c>unshare --mount</c>, root): the machine's /run is not touched.
    /// </summary>
    private static (string Program, string[] Leading) InClusterCommand(KubernetesTestServer kube, string directory, string program, string[] leading, Dictionary<string, string> environment)
    {
        var volume = Path.Combine(directory, "serviceaccount");
        kube.WriteServiceAccountVolume(volume, "metadata-proxy");
        environment["KUBERNETES_SERVICE_HOST"] = kube.BaseAddress.Host;
        environment["KUBERNETES_SERVICE_PORT"] = kube.BaseAddress.Port.ToString(CultureInfo.InvariantCulture);
        const string Script = "mount -t tmpfs tmpfs /run && mkdir -p /run/secrets/kubernetes.io/serviceaccount"
            + " && cp \"$0\"/* /run/secrets/kubernetes.io/serviceaccount/ && exec \"$@\"";
        return ("unshare", ["--mount", "--propagation", "private", "sh", "-c", Script, volume, program, .. leading]);
    }

    /// <summary>The server's own build output next to this one (same configuration), run with <c>dotnet</c> as the image does.</summary>
    internal static string ServerAssembly()
    {
        if (Environment.GetEnvironmentVariable("BENCH_SERVER_DLL") is { Length: > 0 } given)
            return given; // another build of the server (an earlier commit's, to measure before and after in the same conditions)

        var configuration = BenchmarkCommand.IsDebug() ? "Debug" : "Release";
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "src", "MetadataProxy", "bin", configuration, "net10.0", "MetadataProxy.dll");
            if (File.Exists(candidate))
                return candidate;
        }

        throw new FileNotFoundException("src/MetadataProxy/bin/<configuration>/net10.0/MetadataProxy.dll not found above " + AppContext.BaseDirectory);
    }

    internal static string Dotnet() =>
        Environment.ProcessPath is { } path && Path.GetFileNameWithoutExtension(path) == "dotnet" ? path : "dotnet";

    internal static Uri Uri(int port, string path) => new($"http://127.0.0.1:{port}{path}");

    /// <summary>
    /// The test server answers the node's pod list once before the server starts: a real API server is warm, and this
    /// process's own first serialisation of 110 pods (its JIT, on the other core) is not the server's start-up time.
    /// </summary>
    private static async Task WarmPodListAsync(KubernetesTestServer kube)
    {
        var handler = new SocketsHttpHandler { UseProxy = false };
        if (kube.ClientConfiguration().SslCaCerts is { } authorities)
        {
            var policy = new System.Security.Cryptography.X509Certificates.X509ChainPolicy { TrustMode = System.Security.Cryptography.X509Certificates.X509ChainTrustMode.CustomRootTrust, RevocationMode = System.Security.Cryptography.X509Certificates.X509RevocationMode.NoCheck };
            policy.CustomTrustStore.AddRange(authorities);
            handler.SslOptions.CertificateChainPolicy = policy;
        }

        using var client = new HttpClient(handler);
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(kube.BaseAddress, "api/v1/pods?fieldSelector=spec.nodeName%3Dbench-node&resourceVersion=0"));
        request.Headers.Authorization = new("Bearer", kube.BearerToken);
        using var response = await client.SendAsync(request);
        response.EnsureSuccessStatusCode();
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    internal static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "?";
}
