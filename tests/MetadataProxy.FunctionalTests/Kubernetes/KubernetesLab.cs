using k8s.Models;
using MetadataProxy.FunctionalTests.Infrastructure;
using MetadataProxy.TestServers.Google;
using MetadataProxy.TestServers.Kubernetes;

namespace MetadataProxy.FunctionalTests.Kubernetes;

/// <summary>
/// The server in Kubernetes mode with the real KubernetesClient and Google.Apis.Auth talking HTTP to the Kubernetes
/// and Google test servers. Pods get loopback addresses (127.0.0.x) and clients bind to them, so the server sees
/// each pod as a distinct caller.
/// </summary>
public sealed class KubernetesLab : IAsyncLifetime
{
    public const string NodeName = "node-a";
    public const string ProjectNumber = "123456789012";
    public const string PoolId = "test-pool";
    public const string ProviderId = "kubernetes";
    public const string Zone = "us-central1-b";
    public static readonly IPAddress NodeAddress = IPAddress.Parse("127.0.0.250");

    private readonly string _directory = Directory.CreateTempSubdirectory("metadata-proxy-kube-").FullName;
    private ProxyServer? _proxy;

    public KubernetesTestServer Kube { get; private set; } = null!;

    public GoogleTestServer Google { get; private set; } = null!;

    internal ProxyServer Proxy => _proxy ?? throw new InvalidOperationException("Not started.");

    public const string ServerNamespace = "metadata-proxy";
    public const string ServerServiceAccount = "metadata-proxy";
    public const string ServerPodName = "metadata-proxy-node-a";
    public const string NodeGoogleServiceAccount = "node-puller@test-project.iam.gserviceaccount.com";

    /// <summary>
    /// The server's own pod (hostNetwork, its ServiceAccount annotated with <see cref="NodeGoogleServiceAccount"/>), the
    /// downward-API variables naming it, and the node socket at <see cref="NodeSocketPath"/>: the node identity.
    /// </summary>
    public bool WithNodeIdentity { get; init; }

    /// <summary>The Kubernetes test server speaks HTTPS (HTTP/2 by ALPN) with its own cluster CA in the kubeconfig.</summary>
    public bool Tls { get; init; }

    public string NodeSocketPath => Path.Combine(_directory, "run", "node.sock");

    public V1Pod? ServerPod { get; private set; }

    /// <summary>The server's clock (every wait, expiry and retry time); real time when null. The test servers keep real time.</summary>
    public TimeProvider? Time { get; init; }

    /// <summary>Extra settings for a lab of a test class's own.</summary>
    public Dictionary<string, string?> Settings { get; } = new()
    {
        ["Identity:ServiceAccountCacheTtl"] = "00:00:02",
    };

    public static string PrincipalOf(string ns, string ksa) =>
        GoogleTestServer.PrincipalFor(ProjectNumber, PoolId, $"system:serviceaccount:{ns}:{ksa}");

    public async ValueTask InitializeAsync()
    {
        Kube = Tls
            ? await KubernetesTestServer.StartTlsAsync(TestContext.Current.CancellationToken)
            : await KubernetesTestServer.StartAsync(TestContext.Current.CancellationToken);
        Google = await GoogleTestServer.StartAsync(TestContext.Current.CancellationToken);
        Kube.AddNode(new V1Node
        {
            Metadata = new V1ObjectMeta
            {
                Name = NodeName,
                Labels = new Dictionary<string, string> { ["topology.kubernetes.io/zone"] = Zone, ["kubernetes.io/hostname"] = "node-a.example.internal" },
            },
            Spec = new V1NodeSpec
            {
                Taints =
                [
                    new V1Taint { Key = "metadataproxy.io/agent-not-ready", Effect = "NoSchedule" },
                    new V1Taint { Key = "example.com/dedicated", Value = "ml", Effect = "NoSchedule" },
                ],
            },
            Status = new V1NodeStatus { Addresses = [new V1NodeAddress { Type = "InternalIP", Address = NodeAddress.ToString() }] },
        });
        Google.AddProvider(ProjectNumber, PoolId, ProviderId, Kube.Issuer, JwksSource.FromJson(Kube.JwksJson));

        var settings = new Dictionary<string, string?>
        {
            ["Mode"] = "Kubernetes",
            ["Kubernetes:Kubeconfig"] = Kube.WriteKubeconfig(Path.Combine(_directory, "kubeconfig")),
            ["Kubernetes:NodeName"] = NodeName,
            ["WorkloadIdentity:ProjectId"] = Fixture.ProjectId,
            ["WorkloadIdentity:ProjectNumber"] = ProjectNumber,
            ["WorkloadIdentity:PoolId"] = PoolId,
            ["WorkloadIdentity:ProviderId"] = ProviderId,
            ["WorkloadIdentity:StsEndpoint"] = Google.StsTokenUrl.AbsoluteUri,
            ["WorkloadIdentity:IamCredentialsEndpoint"] = Google.IamCredentialsBaseUrl.AbsoluteUri,
            ["Metadata:ClusterName"] = Fixture.ClusterName,
            ["Metadata:ClusterLocation"] = Fixture.ClusterLocation,
            ["Metadata:ClusterUid"] = Fixture.ClusterUid,
            ["Metadata:InstanceId"] = Fixture.InstanceId,
        };
        if (WithNodeIdentity)
        {
            EnsureServiceAccount(ServerNamespace, ServerServiceAccount, NodeGoogleServiceAccount);
            ServerPod = AddPod(ServerNamespace, ServerPodName, NodeAddress.ToString(), ServerServiceAccount, edit: p => p.Spec.HostNetwork = true);
            Google.AllowImpersonation(PrincipalOf(ServerNamespace, ServerServiceAccount), NodeGoogleServiceAccount);
            settings["Listen:NodeSocket"] = NodeSocketPath;
            settings["POD_NAME"] = ServerPod.Metadata.Name;
            settings["POD_UID"] = ServerPod.Metadata.Uid;
            settings["POD_NAMESPACE"] = ServerNamespace;
            settings["POD_SERVICE_ACCOUNT"] = ServerServiceAccount;
        }

        foreach (var (key, value) in Settings)
            settings[key] = value;
        _proxy = await ProxyServer.StartAsync(settings, Time);
        await WaitUntilAsync(async () =>
        {
            using var admin = new HttpClient { BaseAddress = Proxy.AdminUri };
            using var ready = await admin.GetAsync("/readyz", TestContext.Current.CancellationToken);
            return ready.IsSuccessStatusCode;
        });
    }

    public HttpClient Client(string podIp) => Proxy.CreateClient(IPAddress.Parse(podIp));

    /// <summary>A client on the node socket, as root on the node (the kubelet's plugin) would connect.</summary>
    public HttpClient NodeSocketClient() => UnixSocketClient.For(NodeSocketPath);

    /// <summary>A ServiceAccount (annotated when <paramref name="gsa"/> is given) and a Running pod that uses it.</summary>
    public V1Pod AddPod(string ns, string name, string ip, string ksa, string? gsa = null, Action<V1Pod>? edit = null)
    {
        EnsureServiceAccount(ns, ksa, gsa);
        var pod = new V1Pod
        {
            Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns },
            Spec = new V1PodSpec { NodeName = NodeName, ServiceAccountName = ksa, Containers = [new V1Container { Name = "app", Image = "app:1" }] },
            Status = new V1PodStatus { Phase = "Running", PodIP = ip, PodIPs = [new V1PodIP { Ip = ip }] },
        };
        edit?.Invoke(pod);
        return Kube.AddPod(pod);
    }

    public void EnsureServiceAccount(string ns, string ksa, string? gsa = null, IDictionary<string, string>? annotations = null)
    {
        var all = new Dictionary<string, string>(annotations ?? new Dictionary<string, string>());
        if (gsa is not null)
            all["iam.gke.io/gcp-service-account"] = gsa;
        try
        {
            Kube.AddServiceAccount(new V1ServiceAccount { Metadata = new V1ObjectMeta { Name = ksa, NamespaceProperty = ns, Annotations = all } });
        }
        catch (InvalidOperationException)
        {
            // Already there: several pods share one account.
        }
    }

    /// <summary>Waits until <paramref name="podIp"/> resolves and its <c>email</c> is <paramref name="email"/>.</summary>
    public Task WaitForEmailAsync(string podIp, string email, int seconds = 10) =>
        WaitUntilAsync(async () =>
        {
            var (response, body) = await Client(podIp).GetWithBodyAsync("/computeMetadata/v1/instance/service-accounts/default/email");
            return response.StatusCode == HttpStatusCode.OK && body == email;
        }, seconds);

    /// <summary>The current value of one series on the admin port's /metrics (0 when absent).</summary>
    public async Task<double> MetricAsync(string series)
    {
        using var admin = new HttpClient { BaseAddress = Proxy.AdminUri };
        var text = await admin.GetStringAsync("/metrics", TestContext.Current.CancellationToken);
        var line = text.Split('\n').FirstOrDefault(l => l.StartsWith(series + " ", StringComparison.Ordinal));
        return line is null ? 0 : double.Parse(line[(series.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }

    public static async Task WaitUntilAsync(Func<Task<bool>> condition, int seconds = 10)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (DateTime.UtcNow < deadline)
        {
            if (await condition())
                return;
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }

        Assert.Fail("the condition did not hold in time");
    }

    public async ValueTask DisposeAsync()
    {
        if (_proxy is not null)
            await _proxy.DisposeAsync();
        await Google.DisposeAsync();
        await Kube.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }
}
