using System.Collections.Concurrent;
using System.Diagnostics;
using MetadataProxy.FunctionalTests.Infrastructure;

namespace MetadataProxy.FunctionalTests.Kubernetes;

/// <summary>
/// Issue 3's IP-reuse churn: pods are created and deleted continuously on a few reused addresses while clients
/// resolve in a loop; an answer naming a pod whose address had already been given to another pod when the request
/// started is a wrong identity, and there must be none.
/// The model: an address is reused no sooner than <see cref="ReuseGap"/> after the API server accepted its previous
/// pod's deletion (on a real node the old sandbox's teardown and the new pod's start take seconds; the watch event
/// takes milliseconds). Between the deletion and the reuse no pod owns the address.
/// </summary>
public sealed class IpReuseChurnTests(KubernetesLab lab) : IClassFixture<KubernetesLab>
{
    private const int Resolutions = 10_000;
    private static readonly TimeSpan ReuseGap = TimeSpan.FromMilliseconds(50);
    private static readonly string[] Addresses = ["127.0.0.60", "127.0.0.61", "127.0.0.62", "127.0.0.63"];

    [Fact]
    public async Task ChurningPodsWithReusedIps_NeverResolveToAnotherPod()
    {
        var clock = Stopwatch.StartNew();
        var lifetimes = new ConcurrentDictionary<string, (TimeSpan From, TimeSpan Until)>(); // GSA e-mail → from its pod's creation to its address's reuse
        var generation = 0;
        using var stop = new CancellationTokenSource();

        // Each address has a pod (gen N), deleted and, after the reuse gap, replaced by gen N+1 with the same address.
        foreach (var ip in Addresses)
            Create(ip, null);
        var churn = Addresses.Select(ip => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var (name, email) = Current[ip];
                lab.Kube.DeletePod("churn", name);
                await Task.Delay(ReuseGap, CancellationToken.None);
                Create(ip, email);
                await Task.Delay(TimeSpan.FromMilliseconds(10), CancellationToken.None);
            }
        }, CancellationToken.None)).ToList();

        var wrong = new ConcurrentBag<string>();
        var served = 0;
        var refused = 0;
        var remaining = Resolutions;
        var clients = Addresses.Select(async ip =>
        {
            using var client = lab.Client(ip);
            while (Interlocked.Decrement(ref remaining) >= 0)
            {
                var started = clock.Elapsed;
                var (response, body) = await client.GetWithBodyAsync("/computeMetadata/v1/instance/service-accounts/default/email");
                var ended = clock.Elapsed;
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    Interlocked.Increment(ref refused);
                    continue;
                }

                Interlocked.Increment(ref served);
                // The pod named must have been this address's owner at some moment while the request was in flight.
                if (!body.StartsWith(Prefix(ip), StringComparison.Ordinal) || !lifetimes.TryGetValue(body, out var life) || life.From > ended || life.Until < started)
                    wrong.Add($"{ip} at [{started}, {ended}] answered {body} (owned {(lifetimes.TryGetValue(body, out var l) ? l.ToString() : "never")})");
            }
        }).ToList();

        await Task.WhenAll(clients);
        await stop.CancelAsync();
        await Task.WhenAll(churn);

        TestContext.Current.TestOutputHelper?.WriteLine($"{served} served, {refused} refused, {generation} pods on {Addresses.Length} addresses in {clock.Elapsed.TotalSeconds:0.0} s");
        Assert.Empty(wrong);
        Assert.Equal(Resolutions, served + refused);
        Assert.True(served > Resolutions / 2, $"only {served} of {Resolutions} resolutions were answered ({refused} refused)");
        Assert.True(generation > Addresses.Length * 10, $"only {generation} pods were created: too little churn to mean anything");

        // The new pod's owner interval starts now; the previous pod's ends now, when its address is reused.
        void Create(string ip, string? previous)
        {
            var n = Interlocked.Increment(ref generation);
            var name = $"pod-{n}";
            var email = $"{Prefix(ip)}{n}@test-project.iam.gserviceaccount.com";
            var now = clock.Elapsed;
            if (previous is not null)
                lifetimes[previous] = (lifetimes[previous].From, now);
            lifetimes[email] = (now, TimeSpan.MaxValue);
            lab.AddPod("churn", name, ip, $"ksa-{n}", gsa: email);
            Current[ip] = (name, email);
        }
    }

    private static readonly ConcurrentDictionary<string, (string Name, string Email)> Current = new();

    private static string Prefix(string ip) => "ip" + ip.Split('.')[^1] + "-gen";
}
