using System.Diagnostics;
using System.Globalization;
using k8s.Models;
using MetadataProxy.EndToEnd.Iptables;
using MetadataProxy.EndToEnd.Lab;
using MetadataProxy.TestServers.Google;
using MetadataProxy.TestServers.Kubernetes;

namespace MetadataProxy.EndToEnd.Server;

/// <summary>
/// The real MetadataProxy process in Kubernetes mode on the lab's node, behind the interception the script installs:
/// pods' requests to 169.254.169.254:80 reach it at 169.254.169.252:8988 with their own source addresses. The
/// Kubernetes and Google test servers run in this test process, so tests keep their hands on them, but listen on
/// sockets created in the node namespace, the only network the server sees. As in the DaemonSet, the server runs as
/// <see cref="ServerUid"/> with no capability at all and no_new_privs, and its own hostNetwork pod (named to it by the
/// downward-API variables) uses a ServiceAccount annotated with <see cref="NodeGsa"/>: the node identity.
/// </summary>
public sealed class ServerLab : IAsyncLifetime
{
    public const string NodeName = "node-e2e";
    public const string ProjectId = "test-project";
    public const string ProjectNumber = "123456789012";
    public const string PoolId = "test-pool";
    public const string ProviderId = "kubernetes";
    public const string PodNamespace = "e2e";
    public const string WriterGsa = "writer@test-project.iam.gserviceaccount.com";
    public const int AdminPort = 9988;
    public const string ServerNamespace = "metadata-proxy";
    public const string ServerServiceAccount = "metadata-proxy";
    public const string ServerPodName = "metadata-proxy-e2e";
    public const string NodeGsa = "node-puller@test-project.iam.gserviceaccount.com";

    /// <summary>The server container's runAsUser (METADATA_PROXY_UID in manifests/interception.env).</summary>
    public const int ServerUid = 1654;

    private static readonly TimeSpan StartupPatience = TimeSpan.FromSeconds(30);

    private NetworkNamespaceLab? _lab;
    private KubernetesTestServer? _kube;
    private GoogleTestServer? _google;
    private LabProcess? _server;
    private string? _skipReason;
    private string? _kubeconfig;
    private readonly Dictionary<LabProcess, string> _adminSockets = [];

    /// <summary>The script's IPV6 (<c>on</c> by default: the lab's node has IPv6, so <c>auto</c> would mean <c>on</c> too).</summary>
    public string Ipv6 { get; init; } = "on";

    /// <summary>The script's HOST_INTERCEPTION (<c>off</c> by default, as in manifests/interception.env).</summary>
    public string HostInterception { get; init; } = "off";

    /// <summary>The server's Identity:HostNetworkPolicy (<c>Deny</c> by default, as in the server's defaults).</summary>
    public string HostNetworkPolicy { get; init; } = "Deny";

    /// <summary>
    /// The script's HOST_DNS (<c>off</c> by default). The node's processes get an /etc/hosts of their own (see
    /// <see cref="NamespaceEtcFile"/>), which the script edits as the init container edits the host's, mounted.
    /// </summary>
    public string HostDns { get; init; } = "off";

    /// <summary>More server arguments, after the shipped ones (a feature's settings).</summary>
    public IReadOnlyList<string> ExtraServerArguments { get; init; } = [];

    /// <summary>Runs once the lab's network is up, just before the server starts (to start what it must find there).</summary>
    public Func<NetworkNamespaceLab, CancellationToken, Task>? BeforeServerStarts { get; init; }

    /// <summary>Prefix of the lab's network namespace names (<c>mpxe2e</c> by default).</summary>
    public string NamespacePrefix { get; init; } = "mpxe2e";

    /// <summary>The pods' addresses are 198.51.100.(base+1) to (base+3): writer, reader, stranger.</summary>
    public byte PodAddressBase { get; init; } = 40;

    /// <summary>The /etc/hosts that processes of the node namespace see; the script's HOSTS_FILE.</summary>
    public string NodeHostsFile { get; private set; } = "";

    /// <summary>The node's netfilter tables, lo addresses and hosts file just before the script's install (see <see cref="SnapshotNodeAsync"/>).</summary>
    public string NodeBeforeInstall { get; private set; } = "";

    public NetworkNamespaceLab Lab => _lab ?? throw NotBuilt();

    public KubernetesTestServer Kube => _kube ?? throw NotBuilt();

    public GoogleTestServer Google => _google ?? throw NotBuilt();

    /// <summary>The server process; its output goes into assertion messages.</summary>
    public LabProcess Server => _server ?? throw NotBuilt();

    /// <summary>The server's own pod: hostNetwork, so it has the node's addresses.</summary>
    public V1Pod ServerPod { get; private set; } = null!;

    /// <summary>Pod <c>e2e/writer</c>: ServiceAccount <c>writer</c>, annotated with <see cref="WriterGsa"/> and bound in IAM.</summary>
    public LabPod Writer { get; private set; } = null!;

    /// <summary>Pod <c>e2e/reader</c>: ServiceAccount <c>reader</c>, not annotated, so the pool identity.</summary>
    public LabPod Reader { get; private set; } = null!;

    /// <summary>A namespace on the pod bridge whose address no pod in the Kubernetes API has.</summary>
    public LabPod Stranger { get; private set; } = null!;

    public static string PrincipalOf(string ksa, string ns = PodNamespace) =>
        GoogleTestServer.PrincipalFor(ProjectNumber, PoolId, $"system:serviceaccount:{ns}:{ksa}");

    /// <summary>Skips the calling test when this machine cannot host the lab (nothing was built then).</summary>
    public void SkipUnlessBuilt()
    {
        if (_skipReason is not null)
            Assert.Skip(_skipReason);
    }

    public async ValueTask InitializeAsync()
    {
        _skipReason = await LabRequirements.MissingAsync("iptables-nft", "ip6tables-nft", "curl", "conntrack", "dotnet");
        if (_skipReason is not null)
            return;
        try
        {
            await BuildAsync(TestContext.Current.CancellationToken);
        }
        catch
        {
            await DisposeAsync();
            throw;
        }
    }

    /// <summary>GET <paramref name="url"/> with curl inside <paramref name="networkNamespace"/>.</summary>
    public async Task<CurlAnswer> CurlAsync(string networkNamespace, string url, params string[] options) =>
        CurlAnswer.From(await Lab.CurlAsync(networkNamespace, url, [.. options, "--write-out", CurlAnswer.WriteOut], TestContext.Current.CancellationToken));

    /// <summary>
    /// <c>iptables-save</c> of both families (nft, normalised by <see cref="NodeTables.SaveAsync"/>), the addresses on lo
    /// and the node's hosts file: everything the script installs and uninstall must take away again.
    /// </summary>
    public async Task<string> SnapshotNodeAsync() =>
        string.Join(
            "\n---\n",
            await NodeTables.SaveAsync(Lab, IptablesBackend.Nft, 4),
            await NodeTables.SaveAsync(Lab, IptablesBackend.Nft, 6),
            await NodeTables.LoopbackAddressesAsync(Lab),
            await File.ReadAllTextAsync(NodeHostsFile, TestContext.Current.CancellationToken));

    /// <summary>What the DaemonSet's init container passes the script (manifests/interception.env), for install and uninstall.</summary>
    public IReadOnlyDictionary<string, string> InterceptionSettings => new Dictionary<string, string>
    {
        ["IPV6"] = Ipv6,
        ["HOST_INTERCEPTION"] = HostInterception,
        ["METADATA_PROXY_UID"] = ServerUid.ToString(CultureInfo.InvariantCulture),
        ["HOST_DNS"] = HostDns,
        ["HOSTS_FILE"] = NodeHostsFile,
    };

    /// <summary>The server's <c>/readyz</c>, asked on the admin port from inside the node as the kubelet asks it.</summary>
    public async Task<(HttpStatusCode Status, string Body)> ReadyzAsync()
    {
        using var admin = Lab.CreateHttpClient(Lab.NodeNamespace);
        admin.Timeout = TimeSpan.FromSeconds(5);
        using var response = await admin.GetAsync(new Uri($"http://127.0.0.1:{AdminPort}/readyz"), TestContext.Current.CancellationToken);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    /// <summary>Stops the server, the processes first and the namespaces last; later calls do nothing.</summary>
    public async ValueTask DisposeAsync()
    {
        var failures = new List<Exception>();
        foreach (var owned in new IAsyncDisposable?[] { _server, _google, _kube, _lab })
        {
            try
            {
                if (owned is not null)
                    await owned.DisposeAsync();
            }
            catch (Exception e)
            {
                failures.Add(e);
            }
        }

        (_server, _google, _kube, _lab) = (null, null, null, null);
        if (failures.Count > 0)
            throw new AggregateException("The server lab did not stop cleanly.", failures);
    }

    private async Task BuildAsync(CancellationToken cancellationToken)
    {
        var lab = _lab = await NetworkNamespaceLab.CreateAsync(NamespacePrefix, cancellationToken);
        await NodeTables.SeedKubeProxyRulesAsync(lab, IptablesBackend.Nft);
        Writer = await lab.CreatePodAsync("writer", PodAddress(1), cancellationToken);
        Reader = await lab.CreatePodAsync("reader", PodAddress(2), cancellationToken);
        Stranger = await lab.CreatePodAsync("stranger", PodAddress(3), cancellationToken);

        _kube = await KubernetesTestServer.StartAsync(ListenOnNodeLoopback(), cancellationToken);
        _google = await GoogleTestServer.StartAsync(ListenOnNodeLoopback(), cancellationToken);
        RegisterCluster(_kube, _google);

        NodeHostsFile = lab.WriteEtcFile(lab.NodeNamespace, "hosts", "127.0.0.1 localhost\n::1 localhost ip6-localhost\n").Path;
        NodeBeforeInstall = await SnapshotNodeAsync();
        (await new InterceptionScript(lab).InstallAsync(InterceptionSettings)).EnsureSuccess();
        _kubeconfig = WriteKubeconfigForServer(lab, _kube);
        if (BeforeServerStarts is not null)
            await BeforeServerStarts(lab, cancellationToken);
        _server = StartServerProcess(out _);
        await WaitUntilReadyAsync(lab, _server, cancellationToken);
    }

    /// <summary>
    /// Starts another server process as the first was started (same user, configuration and pod) and waits until the
    /// admin port answers ready; the lab stops it on dispose. An upgrade's new pod, beside the old one.
    /// </summary>
    public async Task<LabProcess> StartServerAsync(CancellationToken cancellationToken)
    {
        var server = StartServerProcess(out var adminSocket);
        await WaitUntilProbeSaysReadyAsync(server, adminSocket, cancellationToken);
        return server;
    }

    /// <summary>The admin socket of each server the lab started, by process: where its pod's exec probes ask.</summary>
    public string AdminSocketOf(LabProcess server) => _adminSockets[server];

    /// <summary>
    /// <c>MetadataProxy probe &lt;path&gt;</c> against <paramref name="server"/>'s own admin socket, as the kubelet's exec
    /// probe runs it in the server's container (the container's environment names the socket).
    /// </summary>
    public Task<ProcessResult> ProbeAsync(LabProcess server, string path) =>
        Lab.ExecAsync(
            Lab.NodeNamespace,
            [.. ServerCommand.Launcher, "probe", path],
            new Dictionary<string, string> { ["Listen__AdminSocket"] = AdminSocketOf(server) },
            TimeSpan.FromSeconds(30),
            TestContext.Current.CancellationToken);

    // Each server its own admin socket, in a directory of its own that the server's user may write (as the pod's /tmp).
    private LabProcess StartServerProcess(out string adminSocket)
    {
        if (!OperatingSystem.IsLinux())
            throw new PlatformNotSupportedException("The lab runs on Linux only.");
        var directory = Directory.CreateDirectory(Path.Combine(Lab.WorkDirectory, $"server-{_adminSockets.Count + 1}")).FullName;
        File.SetUnixFileMode(directory, (UnixFileMode)0b111_111_111);
        adminSocket = Path.Combine(directory, "admin.sock");
        var server = Lab.StartProcess(Lab.NodeNamespace, [.. AsServerUser, .. ServerCommand.For(_kubeconfig!, Google, HostNetworkPolicy, adminSocket), .. ExtraServerArguments], DownwardApi());
        _adminSockets[server] = adminSocket;
        return server;
    }

    private async Task WaitUntilProbeSaysReadyAsync(LabProcess server, string adminSocket, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        ProcessResult? last = null;
        // Each probe is a process of its own, as the kubelet's: every half second, as patient as a loaded machine needs.
        while (!server.HasExited && clock.Elapsed < 2 * StartupPatience)
        {
            last = await ProbeAsync(server, "/readyz");
            if (last.Succeeded)
                return;
            await Task.WhenAny(Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken), server.Exited);
        }

        throw await NotReadyAsync(server, clock,
            $"The server's own probe on {adminSocket} did not say ready within {2 * StartupPatience}; last probe: {last}");
    }

    private IPAddress PodAddress(int n) => IPAddress.Parse($"198.51.100.{PodAddressBase + n}");

    // The container's user without any capability and with no_new_privs (the DaemonSet's drop ALL and
    // allowPrivilegeEscalation: false; port 8988 needs nothing); setpriv execs, so SIGTERM still reaches the server.
    private static IReadOnlyList<string> AsServerUser =>
    [
        "setpriv", $"--reuid={ServerUid}", $"--regid={ServerUid}", "--clear-groups",
        "--inh-caps=-all", "--ambient-caps=-all", "--bounding-set=-all", "--no-new-privs", "--",
    ];

    // The lab's directory is root's (0700): the server's user may pass through it to read its kubeconfig, nothing else.
    private static string WriteKubeconfigForServer(NetworkNamespaceLab lab, KubernetesTestServer kube)
    {
        if (!OperatingSystem.IsLinux())
            throw new PlatformNotSupportedException("The lab runs on Linux only.");
        File.SetUnixFileMode(lab.WorkDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
        var kubeconfig = kube.WriteKubeconfig(Path.Combine(lab.WorkDirectory, "kubeconfig"));
        File.SetUnixFileMode(kubeconfig, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        return kubeconfig;
    }

    // The DaemonSet's env from fieldRefs: the server's own pod, whose ServiceAccount is the node identity.
    private Dictionary<string, string> DownwardApi() => new()
    {
        ["POD_NAME"] = ServerPod.Metadata.Name,
        ["POD_UID"] = ServerPod.Metadata.Uid,
        ["POD_NAMESPACE"] = ServerNamespace,
        ["POD_SERVICE_ACCOUNT"] = ServerServiceAccount,
    };

    // 127.0.0.1 of the node namespace, not of the test process: a socket belongs to the namespace it was created in.
    private Socket ListenOnNodeLoopback()
    {
        var socket = Lab.CreateTcpSocket(Lab.NodeNamespace, AddressFamily.InterNetwork);
        try
        {
            socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            socket.Listen(64);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private void RegisterCluster(KubernetesTestServer kube, GoogleTestServer google)
    {
        kube.AddNode(new V1Node
        {
            Metadata = new V1ObjectMeta { Name = NodeName, Labels = new Dictionary<string, string> { ["topology.kubernetes.io/zone"] = "us-central1-b" } },
            Status = new V1NodeStatus
            {
                Addresses =
                [
                    new V1NodeAddress { Type = "InternalIP", Address = LabNetwork.NodeUplink4.ToString() },
                    new V1NodeAddress { Type = "InternalIP", Address = LabNetwork.NodeUplink6.ToString() },
                ],
            },
        });
        // The provider has the cluster's keys uploaded, as for a private issuer: Google never fetches them.
        google.AddProvider(ProjectNumber, PoolId, ProviderId, kube.Issuer, JwksSource.FromJson(kube.JwksJson));
        google.AllowImpersonation(PrincipalOf("writer"), WriterGsa);
        AddPod(kube, Writer, WriterGsa);
        AddPod(kube, Reader, gsa: null);
        google.AllowImpersonation(PrincipalOf(ServerServiceAccount, ServerNamespace), NodeGsa);
        kube.AddServiceAccount(new V1ServiceAccount
        {
            Metadata = new V1ObjectMeta
            {
                Name = ServerServiceAccount,
                NamespaceProperty = ServerNamespace,
                Annotations = new Dictionary<string, string> { ["iam.gke.io/gcp-service-account"] = NodeGsa },
            },
        });
        ServerPod = kube.AddPod(new V1Pod
        {
            Metadata = new V1ObjectMeta { Name = ServerPodName, NamespaceProperty = ServerNamespace },
            Spec = new V1PodSpec
            {
                NodeName = NodeName,
                HostNetwork = true,
                ServiceAccountName = ServerServiceAccount,
                Containers = [new V1Container { Name = "metadata-proxy", Image = "metadata-proxy:dev" }],
            },
            Status = new V1PodStatus
            {
                Phase = "Running",
                PodIP = LabNetwork.NodeUplink4.ToString(),
                PodIPs = [new V1PodIP { Ip = LabNetwork.NodeUplink4.ToString() }, new V1PodIP { Ip = LabNetwork.NodeUplink6.ToString() }],
            },
        });
    }

    // A Running pod on this node with the lab pod's addresses, named after it, with a ServiceAccount of that name too.
    private static void AddPod(KubernetesTestServer kube, LabPod pod, string? gsa)
    {
        var annotations = gsa is null ? null : new Dictionary<string, string> { ["iam.gke.io/gcp-service-account"] = gsa };
        kube.AddServiceAccount(new V1ServiceAccount { Metadata = new V1ObjectMeta { Name = pod.Name, NamespaceProperty = PodNamespace, Annotations = annotations } });
        kube.AddPod(new V1Pod
        {
            Metadata = new V1ObjectMeta { Name = pod.Name, NamespaceProperty = PodNamespace },
            Spec = new V1PodSpec { NodeName = NodeName, ServiceAccountName = pod.Name, Containers = [new V1Container { Name = "app", Image = "app:1" }] },
            Status = new V1PodStatus
            {
                Phase = "Running",
                PodIP = pod.IPv4.ToString(),
                PodIPs = [new V1PodIP { Ip = pod.IPv4.ToString() }, new V1PodIP { Ip = pod.IPv6.ToString() }],
            },
        });
    }

    // Ready means listening and the pod informer synced; asked on the admin port from inside the node.
    private static async Task WaitUntilReadyAsync(NetworkNamespaceLab lab, LabProcess server, CancellationToken cancellationToken)
    {
        using var admin = lab.CreateHttpClient(lab.NodeNamespace);
        admin.Timeout = TimeSpan.FromSeconds(2);
        var readyz = new Uri($"http://127.0.0.1:{AdminPort}/readyz");
        var clock = Stopwatch.StartNew();
        while (!server.HasExited && clock.Elapsed < StartupPatience)
        {
            try
            {
                using var response = await admin.GetAsync(readyz, cancellationToken);
                if (response.StatusCode == HttpStatusCode.OK)
                    return;
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // a slow answer on a loaded machine (the client's 2 s timeout): ask again until StartupPatience is up
            }

            await Task.WhenAny(Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken), server.Exited);
        }

        throw await NotReadyAsync(server, clock, $"The server was not ready within {StartupPatience}");
    }

    // A server that exited is reported at once, with its exit code and whole output: not as a wait that ran out.
    private static async Task<InvalidOperationException> NotReadyAsync(LabProcess server, Stopwatch clock, string timedOut)
    {
        if (!server.HasExited)
            return new InvalidOperationException($"{timedOut}; its output so far:\n{server.Output}");
        await server.Exited;
        return new InvalidOperationException(
            $"The server exited with code {server.ExitCode} {clock.Elapsed.TotalSeconds:0.0} s into its start, before it was ready; its output:\n{server.Output}");
    }

    private static InvalidOperationException NotBuilt() => new("The server lab was not built; call SkipUnlessBuilt first.");
}
