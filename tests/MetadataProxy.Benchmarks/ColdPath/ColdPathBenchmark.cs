using System.Diagnostics;
using System.Globalization;
using System.Net;
using MetadataProxy.Benchmarks.Floors;
using MetadataProxy.TestServers.Google;
using MetadataProxy.TestServers.Kubernetes;

namespace MetadataProxy.Benchmarks.ColdPath;

/// <summary>
/// The cold path, measured: the server as its own process (Kubernetes mode, pinned to core 0, the set-up of
/// <see cref="FloorsBenchmark"/>: 110 pods with their tokens cached), then <c>requests</c> pods that nobody asked for
/// yet, each with its own Kubernetes and Google service account, ask once each for their default token, one after the
/// other, so that each request is TokenRequest + STS + IAM generateAccessToken against test servers that answer at
/// once. Each request's floor is the same three calls made directly (<see cref="UpstreamFloor"/>, from a process on the
/// server's core), in alternating order with it; its overhead is the request's time minus its floor's. Every cold request must have caused exactly one
/// TokenRequest, one STS and one IAM call, else the run is invalid (exit 1).
/// Usage: dotnet run -c Release --project tests/MetadataProxy.Benchmarks -- coldpath [requests] [warm-up requests] [VAR=value …]
/// (defaults 200 and 100; the warm-up requests are the same, run first, not measured: the JIT tiers their code up).
/// </summary>
internal static class ColdPathBenchmark
{
    private const string TokenPath = "/computeMetadata/v1/instance/service-accounts/default/token";
    private const string EmailPath = "/computeMetadata/v1/instance/service-accounts/default/email";

    public static async Task RunAsync(string[] args)
    {
        var numbers = args.Where(a => !a.Contains('=', StringComparison.Ordinal)).ToArray();
        var requests = numbers.Length > 0 ? int.Parse(numbers[0], CultureInfo.InvariantCulture) : 200;
        var warmup = numbers.Length > 1 ? int.Parse(numbers[1], CultureInfo.InvariantCulture) : 100;
        if (requests < 1 || warmup < 0)
            throw new ArgumentOutOfRangeException(nameof(args), $"coldpath [requests] [warm-up]: at least 1 request and no negative warm-up (given {requests} and {warmup}).");
        var environment = args.Where(a => a.Contains('=', StringComparison.Ordinal)).Select(a => a.Split('=', 2)).ToDictionary(a => a[0], a => a[1]);
        if (Environment.ProcessorCount >= 2 && OperatingSystem.IsLinux())
            Process.GetCurrentProcess().ProcessorAffinity = 1 << int.Parse(FloorsBenchmark.LoadCore, CultureInfo.InvariantCulture);
        var directory = Directory.CreateTempSubdirectory("metadata-proxy-coldpath-");
        try
        {
            await RunAsync(requests, warmup, environment, directory.FullName);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    private static async Task RunAsync(int requests, int warmup, Dictionary<string, string> environment, string directory)
    {
        await using var kube = await KubernetesTestServer.StartAsync();
        await using var google = await GoogleTestServer.StartAsync();
        var hot = FloorsBenchmark.RegisterPods(kube, google);
        var cold = ColdPod.AddPods(kube, google, warmup + requests); // their ServiceAccounts come later: nothing is prefetched for them
        var kubeconfig = kube.WriteKubeconfig(Path.Combine(directory, "kubeconfig"));
        var dll = FloorsBenchmark.ServerAssembly();
        Console.WriteLine($"{DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, load average {FloorsBenchmark.LoadAverage()}, server {dll}");
        Console.WriteLine($"server environment: {(environment.Count == 0 ? "(none)" : string.Join(' ', environment.Select(e => $"{e.Key}={e.Value}")))}");

        using var proxy = PinnedProcess.Start("MetadataProxy", FloorsBenchmark.ServerCore, FloorsBenchmark.Dotnet(),
        [
            dll, "--Mode=Kubernetes", .. ServerListeners.Arguments,
            "--Listen:NodeSocket=", "--Logging:LogLevel:Default=Warning",
            $"--Kubernetes:Kubeconfig={kubeconfig}", "--Kubernetes:NodeName=bench-node",
            "--WorkloadIdentity:ProjectId=test-project", $"--WorkloadIdentity:ProjectNumber={FloorsBenchmark.ProjectNumber}",
            $"--WorkloadIdentity:PoolId={FloorsBenchmark.PoolId}", "--WorkloadIdentity:ProviderId=kubernetes",
            $"--WorkloadIdentity:StsEndpoint={google.StsTokenUrl}", $"--WorkloadIdentity:IamCredentialsEndpoint={google.IamCredentialsBaseUrl}",
        ], environment);
        var (metadataPort, adminBase) = await ServerListeners.ReadAsync(proxy, TimeSpan.FromSeconds(30));
        await proxy.WaitForOkAsync(new Uri(adminBase, "readyz"), TimeSpan.FromSeconds(30));
        var server = FloorsBenchmark.Uri(metadataPort, "/");

        // The warm-up: 110 pods' first tokens, each a cold path of its own (prefetched or asked for).
        foreach (var address in hot)
        {
            using var client = FloorsBenchmark.Client(address, server);
            await FloorsBenchmark.TokenAsync(client, TokenPath);
        }

        // The server knows every cold pod and has read its ServiceAccount as missing; then the accounts appear, and
        // the refresher's re-read (Identity:ServiceAccountCacheTtl / 2) resolves each pod without a token prefetch.
        var clients = cold.ToDictionary(p => p, p => FloorsBenchmark.Client(p.Address, server));
        try
        {
            foreach (var pod in cold)
                await WaitForEmailAsync(clients[pod], pod, expectMissing: true);
            foreach (var pod in cold)
                pod.AddServiceAccount(kube);
            foreach (var pod in cold)
                await WaitForEmailAsync(clients[pod], pod, expectMissing: false);

            using var floor = FloorProcess.Start(FloorsBenchmark.ServerCore, kube, google);
            for (var i = 0; i < 30; i++) // the floor's own warm-up, on hot pods (their tokens are cached; the server is not involved)
            {
                var pod = kube.GetPod("bench", $"app-{i}")!;
                await floor.RunAsync(new ColdPod(hot[i], "bench", pod.Metadata.Name, pod.Metadata.Uid, $"bench-{i}@test-project.iam.gserviceaccount.com"));
            }

            using var admin = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = adminBase };
            Console.WriteLine($"{requests} cold token requests after {warmup} more as warm-up, one at a time, each from a new pod with its own KSA and GSA; " +
                $"server and floor process on core {FloorsBenchmark.ServerCore}, driver and test servers on core {FloorsBenchmark.LoadCore}; load average {FloorsBenchmark.LoadAverage()}");
            var measured = new List<(double Cold, double Floor, (double TokenRequest, double Sts, double Iam, double Total) Calls)>();
            var invalid = new List<string>();
            ServerCallTimes? metricsBefore = null;
            var cpuBefore = 0.0;
            var connectionsBefore = 0;
            IDisposable? trace = null;
            for (var i = 0; i < cold.Count; i++)
            {
                if (i == warmup)
                {
                    // By now the JIT has tiered most of the path up: its tier-1 work is a cost of the first cold requests after
                    // start (measured with warm-up 0), not of every one.
                    metricsBefore = await ServerCallTimes.ScrapeAsync(admin);
                    cpuBefore = proxy.CpuMilliseconds();
                    connectionsBefore = google.ConnectionsSeen;
                    trace = Profiler.Attach(proxy, "coldpath", Math.Max(3, requests / 40));
                    Console.WriteLine($"warm-up done, measuring; load average {FloorsBenchmark.LoadAverage()}");
                }

                var pod = cold[i];
                var floorFirst = i % 2 == 1; // alternating, so that neither side always runs on a just-woken machine
                var floorTimes = floorFirst ? await floor.RunAsync(pod) : default;
                var (kubeBefore, stsBefore, iamBefore) = (kube.TokenRequests, google.StsCalls, google.GenerateAccessTokenCalls);
                var (coldMs, status) = await ColdTokenAsync(clients[pod]);
                var calls = (kube.TokenRequests - kubeBefore, google.StsCalls - stsBefore, google.GenerateAccessTokenCalls - iamBefore);
                if (status != HttpStatusCode.OK || calls != (1, 1, 1))
                    invalid.Add($"{pod.Name}: {(int)status}, TokenRequest/STS/IAM calls {calls}");
                if (!floorFirst)
                    floorTimes = await floor.RunAsync(pod);
                if (i >= warmup)
                    measured.Add((coldMs, floorTimes.Total, floorTimes));
            }

            trace?.Dispose();
            var cpu = (proxy.CpuMilliseconds() - cpuBefore) / requests;
            var metricsAfter = await ServerCallTimes.ScrapeAsync(admin);
            Report(measured, metricsBefore!, metricsAfter);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"server CPU (user + system) per cold request: {cpu:0.00} ms; " +
                $"new connections to the Google test server during the measured requests (server and floor): {google.ConnectionsSeen - connectionsBefore}"));
            Console.WriteLine($"cold requests answered 200 with exactly 1 TokenRequest + 1 STS + 1 IAM call each: {cold.Count - invalid.Count} of {cold.Count} (warm-up included); load average now {FloorsBenchmark.LoadAverage()}");
            if (invalid.Count != 0)
            {
                Console.WriteLine("INVALID RUN: a cold request was not answered 200 or did not make exactly one TokenRequest, STS and IAM call: "
                    + string.Join("; ", invalid.Take(5)));
                Environment.ExitCode = 1;
            }
        }
        finally
        {
            foreach (var client in clients.Values)
                client.Dispose();
        }
    }

    private static void Report(List<(double Cold, double Floor, (double TokenRequest, double Sts, double Iam, double Total) Calls)> measured,
        ServerCallTimes before, ServerCallTimes after)
    {
        var coldTimes = new Distribution(measured.Select(m => m.Cold));
        var floorTimes = new Distribution(measured.Select(m => m.Floor));
        var overhead = new Distribution(measured.Select(m => m.Cold - m.Floor));
        Console.WriteLine(Distribution.Header);
        Console.WriteLine(coldTimes.Row("cold token request (client's view)"));
        Console.WriteLine(floorTimes.Row("floor: the 3 calls made directly"));
        Console.WriteLine(overhead.Row("overhead: request - its floor (paired)"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{"overhead: p50(request) - p50(floor)",-44} {coldTimes.P50 - floorTimes.P50,8:0.00}"));
        Console.WriteLine($"{"mean ms of each upstream call",-44} {"direct",8} {"server",8}");
        foreach (var (name, call, direct) in new[]
        {
            ("TokenRequest", "token_request", measured.Average(m => m.Calls.TokenRequest)),
            ("STS", "sts", measured.Average(m => m.Calls.Sts)),
            ("IAM generateAccessToken", "iam_access_token", measured.Average(m => m.Calls.Iam)),
        })
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name,-44} {direct,8:0.00} {after.MeanMsSince(before, call),8:0.00}"));
        }
    }

    private static async Task<(double Milliseconds, HttpStatusCode Status)> ColdTokenAsync(HttpClient client)
    {
        var started = Stopwatch.GetTimestamp();
        using var response = await client.GetAsync(TokenPath);
        await response.Content.ReadAsByteArrayAsync();
        return (Stopwatch.GetElapsedTime(started).TotalMilliseconds, response.StatusCode);
    }

    /// <summary>Waits until the server answers the pod's email: refused as an account that does not exist, or its GSA.</summary>
    private static async Task WaitForEmailAsync(HttpClient client, ColdPod pod, bool expectMissing)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            using var response = await client.GetAsync(EmailPath);
            var body = await response.Content.ReadAsStringAsync();
            var done = expectMissing
                ? response.StatusCode != HttpStatusCode.OK && body.Contains("does not exist", StringComparison.Ordinal)
                : response.StatusCode == HttpStatusCode.OK && body == pod.GoogleServiceAccount;
            if (done)
                return;
            if (!expectMissing && response.StatusCode == HttpStatusCode.OK)
                throw new InvalidOperationException($"{pod.Name}: email {body}, expected {pod.GoogleServiceAccount}");
            if (deadline.Elapsed > TimeSpan.FromSeconds(60))
                throw new TimeoutException($"{pod.Name}: the server did not answer its email as expected ({(int)response.StatusCode} {body})");
            await Task.Delay(TimeSpan.FromMilliseconds(expectMissing ? 20 : 250));
        }
    }
}
