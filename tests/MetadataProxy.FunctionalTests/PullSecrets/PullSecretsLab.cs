using System.Text.Json;
using k8s.Models;
using MetadataProxy.FunctionalTests.Infrastructure;
using MetadataProxy.Hosting;
using MetadataProxy.PullSecrets;
using MetadataProxy.TestServers.Google;
using MetadataProxy.TestServers.Kubernetes;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace MetadataProxy.FunctionalTests.PullSecrets;

/// <summary>
/// The server in <c>Mode=PullSecrets</c> (one or more replicas) against the Kubernetes and Google test servers, all
/// on one fake clock. The clock moves only while every running loop sleeps (<see cref="AdvanceAsync"/>), to each
/// wake-up in turn, so nothing a loop would do in between is skipped.
/// </summary>
internal sealed class PullSecretsLab : IAsyncDisposable
{
    public const string Namespace = "metadata-proxy";
    public const string ProjectNumber = "123456789012";
    public const string PoolId = "test-pool";
    public const string ProviderId = "kubernetes";
    public const string LeaseName = "metadata-proxy-pull-secrets";

    private readonly string _directory = Directory.CreateTempSubdirectory("metadata-proxy-pull-").FullName;
    private readonly List<Replica> _replicas = [];

    private PullSecretsLab(KubernetesTestServer kube, GoogleTestServer google, FakeTimeProvider time)
    {
        Kube = kube;
        Google = google;
        Time = time;
    }

    public KubernetesTestServer Kube { get; }

    public GoogleTestServer Google { get; }

    public FakeTimeProvider Time { get; }

    /// <summary>Settings every replica gets (a test may change them before starting one).</summary>
    public Dictionary<string, string?> Settings { get; } = [];

    public static async Task<PullSecretsLab> StartAsync()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 1, 8, 0, 0, TimeSpan.Zero));
        var kube = await KubernetesTestServer.StartAsync(TestContext.Current.CancellationToken);
        var google = await GoogleTestServer.StartAsync(TestContext.Current.CancellationToken);
        kube.Time = time;
        google.Time = time;
        google.AddProvider(ProjectNumber, PoolId, ProviderId, kube.Issuer, JwksSource.FromJson(kube.JwksJson));
        var lab = new PullSecretsLab(kube, google, time);
        lab.Settings["PullSecrets:Registries"] = "europe-docker.pkg.dev";
        return lab;
    }

    public static string PrincipalOf(string ns, string ksa) =>
        GoogleTestServer.PrincipalFor(ProjectNumber, PoolId, $"system:serviceaccount:{ns}:{ksa}");

    /// <summary>
    /// A replica of the controller, started; it is the leader when it is the first to run. <paramref name="replace"/>
    /// registers services of the test's own over the server's (see <see cref="Program.Build"/>).
    /// </summary>
    public async Task<Replica> StartReplicaAsync(string identity, Action<IServiceCollection>? replace = null)
    {
        var settings = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
        {
            ["Mode"] = "PullSecrets",
            ["Listen:Admin"] = "http://127.0.0.1:0",
            ["Listen:NodeSocket"] = "",
            ["Logging:LogLevel:Default"] = "Warning",
            ["Kubernetes:Kubeconfig"] = Kube.WriteKubeconfig(Path.Combine(_directory, "kubeconfig")),
            ["WorkloadIdentity:ProjectId"] = Fixture.ProjectId,
            ["WorkloadIdentity:ProjectNumber"] = ProjectNumber,
            ["WorkloadIdentity:PoolId"] = PoolId,
            ["WorkloadIdentity:ProviderId"] = ProviderId,
            ["WorkloadIdentity:StsEndpoint"] = Google.StsTokenUrl.AbsoluteUri,
            ["WorkloadIdentity:IamCredentialsEndpoint"] = Google.IamCredentialsBaseUrl.AbsoluteUri,
            ["POD_NAMESPACE"] = Namespace,
            ["POD_NAME"] = identity,
        };
        foreach (var (key, value) in Settings)
            settings[key] = value;
        var app = Program.Build([], builder => builder.Add(new TestConfigurationSource(settings)), Time, replace);
        await app.StartAsync(TestContext.Current.CancellationToken);
        var replica = new Replica(identity, app);
        _replicas.Add(replica);
        return replica;
    }

    /// <summary>Waits until every running replica's loops sleep (an elected replica's controller too).</summary>
    public Task SettleAsync() => WaitUntilAsync(() => Running.All(r => r.Elector.Timer.WakesAt is not null
        && (!r.Elector.IsLeader || r.Controller.Timer.WakesAt is not null)));

    /// <summary>Moves the clock by <paramref name="step"/>, stopping at every wake-up on the way until the loop woken has gone back to sleep.</summary>
    public async Task AdvanceAsync(TimeSpan step, Action? atEveryStop = null)
    {
        var target = Time.GetUtcNow() + step;
        while (true)
        {
            await SettleAsync();
            // A controller that loses its term stops sleeping on its timer; an elector always sleeps again.
            var timers = Running.SelectMany(r => r.Elector.IsLeader
                    ? new[] { (Name: $"{r.Identity}'s elector", Timer: r.Elector.Timer, Active: (Func<bool>)(() => true)), (Name: $"{r.Identity}'s controller", Timer: r.Controller.Timer, Active: () => r.Elector.IsLeader) }
                    : [(Name: $"{r.Identity}'s elector", Timer: r.Elector.Timer, Active: () => true)])
                .Select(t => (t.Name, t.Timer, t.Active, Sleep: SleepOf(t.Timer))).Where(t => t.Sleep.WakesAt is not null).ToList();
            var next = timers.Min(t => t.Sleep.WakesAt!.Value);
            var stop = next < target ? next : target;
            if (stop > Time.GetUtcNow())
                Time.Advance(stop - Time.GetUtcNow());
            atEveryStop?.Invoke();
            var woken = timers.Where(t => t.Sleep.WakesAt <= stop).ToList();
            await WaitUntilAsync(
                () => woken.All(t => t.Timer.Sleeps > t.Sleep.Count || !t.Active()),
                () => $"at {stop:O}, woken and not asleep again: " + string.Join("; ", woken.Where(t => t.Timer.Sleeps <= t.Sleep.Count && t.Active())
                    .Select(t => $"{t.Name} (sleep {t.Sleep.Count} until {t.Sleep.WakesAt:O}; now sleep {t.Timer.Sleeps}, until {t.Timer.WakesAt:O})")));
            if (stop >= target)
            {
                await SettleAsync();
                return;
            }
        }
    }

    /// <summary>
    /// Which sleep a loop is in and when it ends, read together: a loop can wake on a watch event and sleep again at
    /// any time, and two separate reads could pair one sleep's end with the next one's count; the lab then waited for
    /// a sleep after one that had not begun to end.
    /// </summary>
    private static (long Count, DateTimeOffset? WakesAt) SleepOf(LoopTimer timer)
    {
        while (true)
        {
            var count = timer.Sleeps;
            var wakesAt = timer.WakesAt; // this sleep's end, or null: the count moves before a sleep's end is set
            if (timer.Sleeps == count)
                return (count, wakesAt);
        }
    }

    /// <summary>An annotated ServiceAccount (created or replaced).</summary>
    public V1ServiceAccount AddAccount(string ns, string name, string? optIn = "true", string? gsa = null, IList<V1LocalObjectReference>? pullSecrets = null)
    {
        var annotations = new Dictionary<string, string>();
        if (optIn is not null)
            annotations[PullSecretOptIn.AnnotationKey] = optIn;
        if (gsa is not null)
            annotations["iam.gke.io/gcp-service-account"] = gsa;
        return Kube.AddServiceAccount(new V1ServiceAccount
        {
            Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns, Annotations = annotations },
            ImagePullSecrets = pullSecrets,
        });
    }

    public V1Secret? SecretOf(string ns, string account) => Kube.GetSecret(ns, PullSecretName.For(account));

    /// <summary>The auths of a Secret's .dockerconfigjson: host → (username, password).</summary>
    public static Dictionary<string, (string User, string Password)> Auths(V1Secret secret)
    {
        using var json = JsonDocument.Parse(secret.Data[".dockerconfigjson"]);
        return json.RootElement.GetProperty("auths").EnumerateObject().ToDictionary(
            p => p.Name,
            p => (p.Value.GetProperty("username").GetString()!, p.Value.GetProperty("password").GetString()!));
    }

    /// <summary>The access token a Secret holds (the same for every host), or null while it holds none.</summary>
    public static string? TokenIn(V1Secret? secret) => secret is null ? null : Auths(secret).Values.Select(a => a.Password).Distinct().SingleOrDefault();

    public static Task WaitUntilAsync(Func<bool> condition, int seconds = 20) => WaitUntilAsync(condition, () => "the condition did not hold in time", seconds);

    /// <summary>Waits (in real time) until <paramref name="condition"/> holds; fails saying <paramref name="why"/> otherwise.</summary>
    public static async Task WaitUntilAsync(Func<bool> condition, Func<string> why, int seconds = 20)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
                Assert.Fail(why());
            await Task.Delay(2, TestContext.Current.CancellationToken);
        }
    }

    /// <summary>The replica's /metrics page as Prometheus scrapes it.</summary>
    public static async Task<string> MetricsTextAsync(Replica replica)
    {
        using var admin = new HttpClient { BaseAddress = replica.AdminUri };
        return await admin.GetStringAsync("/metrics", TestContext.Current.CancellationToken);
    }

    public static async Task<double> MetricAsync(Replica replica, string series)
    {
        var text = await MetricsTextAsync(replica);
        var line = text.Split('\n').FirstOrDefault(l => l.StartsWith(series + " ", StringComparison.Ordinal));
        return line is null ? 0 : double.Parse(line[(series.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Waits (in real time, the clock standing still) until the series satisfies <paramref name="condition"/>.</summary>
    public static async Task WaitForMetricAsync(Replica replica, string series, Func<double, bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!condition(await MetricAsync(replica, series)))
        {
            if (DateTime.UtcNow > deadline)
                Assert.Fail($"{series} did not reach the expected value in time");
            await Task.Delay(5, TestContext.Current.CancellationToken);
        }
    }

    /// <summary>The Warning Event with this reason, once written (Events are written off the controller's loop).</summary>
    public async Task<Corev1Event> EventAsync(string reason, string? account = null)
    {
        await WaitUntilAsync(() => Kube.EventsCreated.Any(e => e.Reason == reason && (account is null || e.InvolvedObject.Name == account)));
        return Kube.EventsCreated.First(e => e.Reason == reason && (account is null || e.InvolvedObject.Name == account));
    }

    public async Task StopAsync(Replica replica)
    {
        _replicas.Remove(replica);
        await replica.DisposeAsync();
    }

    private IEnumerable<Replica> Running => _replicas;

    public async ValueTask DisposeAsync()
    {
        foreach (var replica in _replicas)
            await replica.DisposeAsync();
        await Google.DisposeAsync();
        await Kube.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    internal sealed class Replica(string identity, WebApplication app) : IAsyncDisposable
    {
        public string Identity => identity;

        public LeaseElector Elector => app.Services.GetRequiredService<LeaseElector>();

        public PullSecretController Controller => app.Services.GetRequiredService<PullSecretController>();

        public Uri AdminUri => new($"http://{app.Services.GetRequiredService<Listeners>().AdminEndpoints[0]}/");

        public IServiceProvider Services => app.Services;

        public async ValueTask DisposeAsync()
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }
}
