using MetadataProxy.FunctionalTests.Infrastructure;
using MetadataProxy.TestServers.ComputeMetadata;

namespace MetadataProxy.FunctionalTests.Passthrough;

/// <summary>
/// The server in passthrough mode in front of a Compute Engine test server that holds a VM's values, its secrets
/// among them (each secret value contains <see cref="Secret"/>).
/// </summary>
public sealed class PassthroughLab : IAsyncLifetime
{
    public const string Secret = "VM-SECRET";
    public static readonly IPAddress AppCaller = IPAddress.Parse("127.0.0.1");

    private ComputeMetadataTestServer? _upstream;
    private ProxyServer? _server;

    public ComputeMetadataTestServer Upstream => _upstream ?? throw new InvalidOperationException("Not started.");

    internal ProxyServer Server => _server ?? throw new InvalidOperationException("Not started.");

    public static IReadOnlyDictionary<string, string> VmValues { get; } = new Dictionary<string, string>
    {
        ["instance/attributes/user-setting"] = "from-the-vm",
        ["instance/attributes/cluster-name"] = "vm-cluster-name",
        ["instance/attributes/kube-env"] = Secret + "-kube-env",
        ["instance/attributes/kubelet-cert"] = Secret + "-kubelet-cert",
        ["instance/attributes/ssh-keys"] = Secret + "-ssh-keys",
        ["instance/attributes/startup-script"] = Secret + "-startup-script",
        ["instance/attributes/user-data"] = Secret + "-user-data",
        ["instance/service-accounts/default/token"] = Secret + "-token",
        ["instance/service-accounts/default/email"] = "vm-sa@vm-project.iam.gserviceaccount.com",
        ["instance/service-accounts/vm-sa@vm-project.iam.gserviceaccount.com/token"] = Secret + "-token",
        ["instance/guest-attributes/hostkeys/ssh-rsa"] = Secret + "-hostkey",
        ["instance/network-interfaces/0/ip"] = "10.128.0.7",
        ["instance/network-interfaces/0/access-configs/0/external-ip"] = "34.1.2.3",
        ["instance/machine-type"] = "projects/999/machineTypes/e2-standard-4",
        ["instance/maintenance-event"] = "NONE",
        ["instance/preempted"] = "FALSE",
        ["instance/cpu-platform"] = "Intel Broadwell",
        ["instance/description"] = "a node of the test cluster",
        ["instance/image"] = "projects/debian-cloud/global/images/debian-12",
        ["instance/tags"] = "[\"web\"]",
        ["instance/zone"] = "projects/999/zones/europe-west1-b",
        ["instance/id"] = "999",
        ["instance/virtual-clock/drift-token"] = "0",
        ["project/attributes/team"] = "platform",
        ["project/attributes/ssh-keys"] = Secret + "-project-ssh-keys",
        ["project/project-id"] = "vm-project",
    };

    public HttpClient Client() => Server.CreateClient(AppCaller);

    /// <summary>Requests the upstream received for <paramref name="key"/> (below v1/), whatever their query.</summary>
    public IEnumerable<ReceivedRequest> ReceivedFor(string key) =>
        Upstream.Received.Where(r => r.RawTarget.Split('?')[0].TrimEnd('/') == "/computeMetadata/v1/" + key);

    public async ValueTask InitializeAsync()
    {
        _upstream = await ComputeMetadataTestServer.StartAsync();
        foreach (var (path, value) in VmValues)
            _upstream.Set(path, value);
        _server = await StartProxyAsync(_upstream.BaseAddress.ToString());
    }

    /// <summary>The server in passthrough mode, with the spec's fixture and one workload at <see cref="AppCaller"/>.</summary>
    internal static Task<ProxyServer> StartProxyAsync(string upstreamAddress, IDictionary<string, string?>? extra = null, TimeProvider? time = null)
    {
        var settings = Fixture.MetadataSettings();
        settings["Standalone:Identities:0:Cidr"] = "127.0.0.1/32";
        settings["Standalone:Identities:0:Namespace"] = "apps";
        settings["Standalone:Identities:0:ServiceAccount"] = "app";
        settings["Standalone:Identities:0:GoogleServiceAccount"] = Fixture.AppServiceAccount;
        // Never Application Default Credentials in a test: Google.Apis.Auth caches their lookup for the whole process,
        // and a lookup made here (no GCE_METADATA_HOST) would fail ComputeCredentialTests' later. A file without a type
        // makes the local token paths answer 503 with the reason, which is all these tests need of them.
        settings["Standalone:CredentialsFile"] = UntypedCredentials.Value;
        settings["Upstream:Mode"] = "Passthrough";
        settings["Upstream:Address"] = upstreamAddress;
        foreach (var (key, value) in extra ?? new Dictionary<string, string?>())
            settings[key] = value;
        return ProxyServer.StartAsync(settings, time);
    }

    private static readonly Lazy<string> UntypedCredentials = new(() =>
    {
        var file = Path.Combine(AppContext.BaseDirectory, "passthrough-untyped-credentials.json"); // in the build output, not left in /tmp
        File.WriteAllText(file, "{}");
        return file;
    });

    internal static async Task<string> MetricsAsync(ProxyServer server)
    {
        using var admin = new HttpClient { BaseAddress = server.AdminUri };
        return await admin.GetStringAsync("/metrics", TestContext.Current.CancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
            await _server.DisposeAsync();
        if (_upstream is not null)
            await _upstream.DisposeAsync();
    }
}
