using System.Collections.Concurrent;
using System.Diagnostics;
using k8s.Models;
using MetadataProxy.FunctionalTests.Infrastructure;

namespace MetadataProxy.FunctionalTests.Kubernetes;

/// <summary>A lab whose lookups wait at most 0.2 s for the index to settle, so a contended probe answers quickly.</summary>
public sealed class ChurnLab : IAsyncLifetime
{
    public KubernetesLab Lab { get; } = new();

    public ValueTask InitializeAsync()
    {
        Lab.Settings["Identity:LookupWait"] = "00:00:00.2";
        return Lab.InitializeAsync();
    }

    public ValueTask DisposeAsync() => Lab.DisposeAsync();
}

/// <summary>
/// Issue 9, row 6: pods are replaced continuously on a few reused addresses while a client on each address resolves
/// in a loop; an answer naming a pod that did not own the address at any moment while the request was in flight is a
/// wrong identity, and there must be none, at any reuse gap (0 ms included) and in both orderings.
/// <para>The kubelet's ordering: the old pod's deletion is requested (its containers still run their shutdown hooks
/// and may call; its replacement is bound to the node, without an address yet) → the containers stop and the address
/// is released → after the gap the address is reused by the replacement, whose containers call at once → the
/// replacement's status with the address reaches the API → the old pod is removed. The guarantee assumes the node's
/// watch has applied the deletion request before the containers stop (on a node the kubelet itself learns of the
/// deletion from the API server, and stopping containers takes seconds): the test establishes that premise (a
/// request from the address is refused as contended) and then allows the shutdown hooks a few milliseconds.</para>
/// <para>The adversarial ordering: the replacement's status with the address reaches the API while the old pod is
/// still live there (its deletion not yet requested); from then both claim the address and the server must refuse
/// until the old pod's deletion arrives, the gap later. Before its watch has applied the new claim no server can know
/// of it, so the old pod stops being a right answer once the server has shown that it knows (a probe on the address
/// is refused as ambiguous); the new pod becomes one only when the old pod's deletion is requested.</para>
/// </summary>
public sealed class IpReuseChurnTests(ChurnLab fixture) : IClassFixture<ChurnLab>
{
    private readonly KubernetesLab lab = fixture.Lab;

    private static readonly TimeSpan Duration = TimeSpan.FromSeconds(4);
    private const int MinimumPods = 24;
    private static readonly TimeSpan ShutdownHooks = TimeSpan.FromMilliseconds(20);
    private const string Email = "/computeMetadata/v1/instance/service-accounts/default/email";

    [Theory]
    [InlineData(0, "127.0.0.60", "127.0.0.61")]
    [InlineData(10, "127.0.0.62", "127.0.0.63")]
    [InlineData(50, "127.0.0.64", "127.0.0.65")]
    public Task KubeletOrdering_NoWrongIdentityAtAnyReuseGap(int gapMs, string first, string second) =>
        ChurnAsync(TimeSpan.FromMilliseconds(gapMs), adversarial: false, [first, second]);

    [Theory]
    [InlineData(0, "127.0.0.66", "127.0.0.67")]
    [InlineData(10, "127.0.0.68", "127.0.0.69")]
    [InlineData(50, "127.0.0.70", "127.0.0.71")]
    public Task NewPodsAddressBeforeOldPodsDeletion_NoWrongIdentityAtAnyGap(int gapMs, string first, string second) =>
        ChurnAsync(TimeSpan.FromMilliseconds(gapMs), adversarial: true, [first, second]);

    private async Task ChurnAsync(TimeSpan gap, bool adversarial, string[] addresses)
    {
        var ns = $"churn-{(adversarial ? "a" : "k")}{(int)gap.TotalMilliseconds}";
        var clock = Stopwatch.StartNew();
        var owners = new ConcurrentDictionary<string, (TimeSpan From, TimeSpan Until)>(); // GSA e-mail → when naming it is right
        var generation = 0;
        using var stop = new CancellationTokenSource();

        var current = addresses.ToDictionary(ip => ip, ip => Create(ip, running: true));
        foreach (var ip in addresses)
            owners[current[ip].Email] = (TimeSpan.Zero, TimeSpan.MaxValue);
        foreach (var ip in addresses)
            await lab.WaitForEmailAsync(ip, current[ip].Email);

        var answers = new ConcurrentDictionary<string, int>();
        var wrong = new ConcurrentBag<string>();
        var refused = 0;
        var clients = addresses.Select(async ip =>
        {
            using var client = lab.Client(ip);
            while (!stop.IsCancellationRequested)
            {
                var started = clock.Elapsed;
                var (response, body) = await client.GetWithBodyAsync(Email);
                var ended = clock.Elapsed;
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
                    Interlocked.Increment(ref refused);
                    continue;
                }

                answers.AddOrUpdate(body, 1, (_, n) => n + 1);
                if (!body.StartsWith(Prefix(ns, ip), StringComparison.Ordinal) || !owners.TryGetValue(body, out var owner) || owner.From > ended || owner.Until < started)
                    wrong.Add($"{ip} at [{started}, {ended}] answered {body} (right during {(owners.TryGetValue(body, out var o) ? o.ToString() : "never")})");
            }
        }).ToList();

        var churn = addresses.Select(ip => Task.Run(async () =>
        {
            var old = current[ip];
            while ((clock.Elapsed < Duration || Volatile.Read(ref generation) < MinimumPods) && clock.Elapsed < 5 * Duration)
                old = adversarial ? await AdversarialAsync(ip, old) : await KubeletAsync(ip, old);
        })).ToList();

        await Task.WhenAll(churn);
        await stop.CancelAsync();
        await Task.WhenAll(clients);

        var served = answers.Values.Sum();
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"{served} served ({answers.Count} identities, at most {answers.Values.DefaultIfEmpty().Max()} answers each), {refused} refused, {generation} pods on {addresses.Length} addresses in {clock.Elapsed.TotalSeconds:0.0} s");
        using (var admin = new HttpClient { BaseAddress = lab.Proxy.AdminUri })
        {
            var text = await admin.GetStringAsync("/metrics", TestContext.Current.CancellationToken);
            foreach (var line in text.Split('\n').Where(l => l.StartsWith("metadata_proxy_caller_resolutions_total", StringComparison.Ordinal) || l.StartsWith("metadata_proxy_pod_watch", StringComparison.Ordinal) || l.StartsWith("metadata_proxy_pod_relists", StringComparison.Ordinal)))
                TestContext.Current.TestOutputHelper?.WriteLine(line);
        }

        foreach (var line in wrong.Take(5))
            TestContext.Current.TestOutputHelper?.WriteLine(line);
        Assert.Empty(wrong);
        Assert.True(generation >= MinimumPods, $"only {generation} pods were created: too little churn to mean anything");
        Assert.True(answers.Count >= 10, $"only {answers.Count} of {generation} pods were ever answered: the test measured refusals, not identities");

        // The kubelet's ordering, one replacement. Every delay here is the modelled timeline (shutdown hooks, the reuse
        // gap, the kubelet's steps a few ms apart), the subject of the test: none waits for the server to catch up.
        async Task<(string Name, string Email)> KubeletAsync(string ip, (string Name, string Email) old)
        {
            await SettledAsync(ip, old);
            lab.Kube.MarkPodTerminating(ns, old.Name);
            var next = Create(ip, running: false); // the ReplicaSet's replacement, bound here, no address yet
            await ContendedAsync(ip);
            await Task.Delay(ShutdownHooks, CancellationToken.None);
            owners[old.Email] = (owners[old.Email].From, clock.Elapsed); // containers stopped, address released
            if (gap > TimeSpan.Zero)
                await Task.Delay(gap, CancellationToken.None);
            owners[next.Email] = (clock.Elapsed, TimeSpan.MaxValue); // reused: the replacement's containers call
            await Task.Delay(TimeSpan.FromMilliseconds(2), CancellationToken.None);
            lab.Kube.UpdatePod(ns, next.Name, p => p.Status = Running(ip));
            await Task.Delay(TimeSpan.FromMilliseconds(2), CancellationToken.None);
            lab.Kube.DeletePod(ns, old.Name);
            return next;
        }

        // The adversarial ordering, one replacement.
        async Task<(string Name, string Email)> AdversarialAsync(string ip, (string Name, string Email) old)
        {
            await SettledAsync(ip, old);
            var next = Create(ip, running: true); // the new pod's address arrives first
            await KnownAmbiguousAsync(ip);
            owners[old.Email] = (owners[old.Email].From, clock.Elapsed);
            if (gap > TimeSpan.Zero)
                await Task.Delay(gap, CancellationToken.None);
            owners[next.Email] = (clock.Elapsed, TimeSpan.MaxValue); // until now both claimed it: naming either was a guess
            lab.Kube.MarkPodTerminating(ns, old.Name);
            await Task.Delay(TimeSpan.FromMilliseconds(2), CancellationToken.None);
            lab.Kube.DeletePod(ns, old.Name);
            return next;
        }

        // The refusals name no pod (the caller learns counts only), so the probes below cannot tell this replacement's
        // refusal from one left over from the previous replacement on the address while the node's watch catches up.
        // Each replacement therefore starts once the node serves the pod it replaces: from then on an ambiguous or
        // contended refusal on the address is this replacement's.
        async Task SettledAsync(string ip, (string Name, string Email) old) => await lab.WaitForEmailAsync(ip, old.Email);

        // The node knows of both claims once it says so; from then on it must name neither until the old pod's
        // deletion arrives. (Before, it cannot know: its watch has not applied the new claim.)
        async Task KnownAmbiguousAsync(string ip)
        {
            using var probe = lab.Client(ip);
            while (true)
            {
                var (response, body) = await probe.GetWithBodyAsync(Email);
                if (response.StatusCode == HttpStatusCode.ServiceUnavailable && body.Contains($"2 live pods on this node claim IP {ip};", StringComparison.Ordinal))
                    return;
            }
        }

        // The node has applied the deletion request once the old pod's own request is refused as contended: its
        // replacement waits for an address (the refusal waits Identity:LookupWait for the index to settle first).
        async Task ContendedAsync(string ip)
        {
            using var probe = lab.Client(ip);
            while (true)
            {
                var (response, body) = await probe.GetWithBodyAsync(Email);
                if (response.StatusCode == HttpStatusCode.ServiceUnavailable && body.Contains($"The pod at {ip} is terminating", StringComparison.Ordinal) && body.Contains("waiting for an address", StringComparison.Ordinal))
                    return;
            }
        }

        (string Name, string Email) Create(string ip, bool running)
        {
            var n = Interlocked.Increment(ref generation);
            var name = $"pod-{n}";
            var email = $"{Prefix(ns, ip)}{n}@test-project.iam.gserviceaccount.com";
            lab.AddPod(ns, name, ip, $"ksa-{n}", gsa: email, edit: p => p.Status = running ? Running(ip) : new V1PodStatus { Phase = "Pending" });
            return (name, email);
        }
    }

    private static V1PodStatus Running(string ip) => new() { Phase = "Running", PodIP = ip, PodIPs = [new V1PodIP { Ip = ip }] };

    private static string Prefix(string ns, string ip) => ns[6..] + "-ip" + ip.Split('.')[^1] + "-gen";
}
