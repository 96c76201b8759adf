using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace MetadataProxy.EndToEnd.Lab;

/// <summary>
/// A node, its pods and the cloud beyond its uplink, as network namespaces joined by veth pairs (see
/// <see cref="LabNetwork"/>). Every interface is created directly inside a lab namespace, so nothing ever appears in
/// the machine's own namespace; disposing closes the lab's sockets and processes and deletes the namespaces, which
/// takes their interfaces, addresses, routes, netfilter tables and conntrack entries with them.
/// </summary>
public sealed partial class NetworkNamespaceLab : IAsyncDisposable
{
    private readonly List<string> _namespaces = [];
    private readonly List<LabPod> _pods = [];
    private readonly List<IAsyncDisposable> _owned = [];

    private NetworkNamespaceLab(string id)
    {
        Id = id;
        NodeNamespace = $"{id}-node";
        CloudNamespace = $"{id}-cloud";
        WorkDirectory = Directory.CreateTempSubdirectory($"{id}-").FullName;
    }

    /// <summary>Unique per lab (<c>mpxe2e-xxxxxx</c>); prefixes every namespace name, so labs run side by side.</summary>
    public string Id { get; }

    /// <summary>The namespace playing the node: its own lo, netfilter tables and conntrack table.</summary>
    public string NodeNamespace { get; }

    /// <summary>The far end of the node's uplink; its lo holds the "real" metadata addresses.</summary>
    public string CloudNamespace { get; }

    /// <summary>A private directory for the lab's files (lock files, logs); deleted on dispose.</summary>
    public string WorkDirectory { get; }

    public IReadOnlyList<LabPod> Pods => _pods;

    /// <summary>Builds the node and the cloud. Call <see cref="LabRequirements.SkipUnlessAvailableAsync"/> first.</summary>
    public static async Task<NetworkNamespaceLab> CreateAsync(CancellationToken cancellationToken = default) =>
        await CreateAsync("mpxe2e", cancellationToken);

    /// <summary>As <see cref="CreateAsync(CancellationToken)"/>, with namespaces named <c>&lt;prefix&gt;-xxxxxx-…</c>.</summary>
    public static async Task<NetworkNamespaceLab> CreateAsync(string prefix, CancellationToken cancellationToken = default)
    {
        var lab = new NetworkNamespaceLab($"{prefix}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3))}");
        try
        {
            await lab.BuildNodeAndCloudAsync(cancellationToken);
            return lab;
        }
        catch
        {
            await lab.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Adds a pod namespace with <paramref name="ipv4"/> (in 198.51.100.0/24) and the matching IPv6 address, its
    /// <c>eth0</c> paired with <c>v&lt;name&gt;</c> on the node's bridge, default routes via the node.
    /// </summary>
    public async Task<LabPod> CreatePodAsync(string name, IPAddress ipv4, CancellationToken cancellationToken = default)
    {
        if (!PodName().IsMatch(name))
            throw new ArgumentException("Pod names are 1-12 lower-case letters or digits (they name the node's veth).", nameof(name));
        var pod = new LabPod(name, $"{Id}-{name}", ipv4, LabNetwork.PodIPv6For(ipv4));
        await AddNamespaceAsync(pod.Namespace, cancellationToken);
        await IpAsync(cancellationToken, "-n", NodeNamespace, "link", "add", $"v{name}", "type", "veth", "peer", "name", "eth0", "netns", pod.Namespace);
        await IpAsync(cancellationToken, "-n", NodeNamespace, "link", "set", $"v{name}", "master", LabNetwork.PodBridge, "up");
        await IpAsync(cancellationToken, "-n", pod.Namespace, "addr", "add", $"{pod.IPv4}/24", "dev", "eth0");
        await IpAsync(cancellationToken, "-n", pod.Namespace, "addr", "add", $"{pod.IPv6}/64", "dev", "eth0", "nodad");
        await IpAsync(cancellationToken, "-n", pod.Namespace, "link", "set", "eth0", "up");
        await IpAsync(cancellationToken, "-n", pod.Namespace, "route", "add", "default", "via", LabNetwork.PodGateway4.ToString());
        await IpAsync(cancellationToken, "-n", pod.Namespace, "-6", "route", "add", "default", "via", LabNetwork.PodGateway6.ToString());
        _pods.Add(pod);
        return pod;
    }

    /// <summary>Runs <paramref name="command"/> inside <paramref name="networkNamespace"/> (<c>ip netns exec</c>).</summary>
    public Task<ProcessResult> ExecAsync(string networkNamespace, params string[] command) =>
        ExecAsync(networkNamespace, command, environment: null);

    public Task<ProcessResult> ExecAsync(
        string networkNamespace,
        IReadOnlyList<string> command,
        IReadOnlyDictionary<string, string>? environment,
        TimeSpan? timeout = null,
        CancellationToken cancellationToken = default) =>
        ProcessRunner.RunAsync(["ip", "netns", "exec", Owned(networkNamespace), .. command], environment, timeout, cancellationToken: cancellationToken);

    /// <summary>
    /// Starts a long-running command inside <paramref name="networkNamespace"/> (a server, say); the lab kills it
    /// before deleting the namespaces, and earlier if the caller disposes it.
    /// </summary>
    public LabProcess StartProcess(string networkNamespace, IReadOnlyList<string> command, IReadOnlyDictionary<string, string>? environment = null)
    {
        var process = LabProcess.Start(["ip", "netns", "exec", Owned(networkNamespace), .. command], environment);
        _owned.Add(process);
        return process;
    }

    /// <summary>A TCP socket created inside <paramref name="networkNamespace"/>; the caller owns it.</summary>
    public Socket CreateTcpSocket(string networkNamespace, AddressFamily family) =>
        NamespaceSockets.CreateTcp(Owned(networkNamespace), family);

    /// <summary>An <see cref="HttpClient"/> whose connections start inside <paramref name="networkNamespace"/>, for real .NET clients as pods.</summary>
    public HttpClient CreateHttpClient(string networkNamespace)
    {
        Owned(networkNamespace);
        var handler = new SocketsHttpHandler
        {
            UseProxy = false,
            ConnectCallback = async (context, cancellationToken) =>
            {
                var address = IPAddress.Parse(context.DnsEndPoint.Host.Trim('[', ']'));
                var socket = NamespaceSockets.CreateTcp(networkNamespace, address.AddressFamily);
                try
                {
                    await socket.ConnectAsync(address, context.DnsEndPoint.Port, cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        return new HttpClient(handler);
    }

    /// <summary>Starts a <see cref="StandInServer"/> inside <paramref name="networkNamespace"/>; the lab stops it on dispose.</summary>
    public StandInServer StartStandIn(string networkNamespace, IPEndPoint endpoint, string name)
    {
        var server = StandInServer.Start(Owned(networkNamespace), endpoint, name);
        _owned.Add(server);
        return server;
    }

    /// <summary><c>curl</c> inside <paramref name="networkNamespace"/>: exit code 7 means connection refused, 28 a timeout.</summary>
    public Task<ProcessResult> CurlAsync(string networkNamespace, string url, CancellationToken cancellationToken = default) =>
        CurlAsync(networkNamespace, url, [], cancellationToken);

    /// <summary>As <see cref="CurlAsync(string, string, CancellationToken)"/>, with more curl <paramref name="options"/> (<c>--write-out</c>, say).</summary>
    public Task<ProcessResult> CurlAsync(string networkNamespace, string url, IReadOnlyList<string> options, CancellationToken cancellationToken = default) =>
        ExecAsync(
            networkNamespace,
            ["curl", "--noproxy", "*", "--silent", "--show-error", "--globoff", "--connect-timeout", "5", "--max-time", "10",
                "--header", "Metadata-Flavor: Google", .. options, url],
            environment: null,
            cancellationToken: cancellationToken);

    /// <summary>
    /// Gives the commands run in <paramref name="networkNamespace"/> their own <c>/etc/<paramref name="name"/></c> (see
    /// <see cref="NamespaceEtcFile"/>); the lab deletes it on dispose, and earlier if the caller disposes it.
    /// </summary>
    public NamespaceEtcFile WriteEtcFile(string networkNamespace, string name, string content)
    {
        var file = NamespaceEtcFile.Write(Owned(networkNamespace), name, content);
        _owned.Add(file);
        return file;
    }

    public async ValueTask DisposeAsync()
    {
        var failures = new List<Exception>();
        // Sockets and processes first: an open socket keeps its namespace alive after `ip netns del`.
        foreach (var owned in Enumerable.Reverse(_owned))
        {
            try
            {
                await owned.DisposeAsync();
            }
            catch (Exception e)
            {
                failures.Add(e);
            }
        }

        foreach (var name in Enumerable.Reverse(_namespaces))
        {
            var deleted = await ProcessRunner.RunAsync(["ip", "netns", "del", name]);
            if (!deleted.Succeeded)
                failures.Add(new InvalidOperationException(deleted.ToString()));
        }

        try
        {
            Directory.Delete(WorkDirectory, recursive: true);
        }
        catch (IOException e)
        {
            failures.Add(e);
        }

        if (failures.Count > 0)
            throw new AggregateException($"Lab {Id} did not clean up completely.", failures);
    }

    // Everything the lab runs happens in its own namespaces, never in the machine's.
    private string Owned(string networkNamespace) =>
        _namespaces.Contains(networkNamespace)
            ? networkNamespace
            : throw new ArgumentException($"{networkNamespace} is not a namespace of lab {Id}.", nameof(networkNamespace));

    private async Task BuildNodeAndCloudAsync(CancellationToken cancellationToken)
    {
        string node = NodeNamespace, cloud = CloudNamespace;
        await AddNamespaceAsync(node, cancellationToken);
        await AddNamespaceAsync(cloud, cancellationToken);

        await IpAsync(cancellationToken, "-n", node, "link", "add", LabNetwork.UplinkInterface, "type", "veth", "peer", "name", "eth0", "netns", cloud);
        await IpAsync(cancellationToken, "-n", node, "addr", "add", $"{LabNetwork.NodeUplink4}/24", "dev", LabNetwork.UplinkInterface);
        await IpAsync(cancellationToken, "-n", node, "addr", "add", $"{LabNetwork.NodeUplink6}/64", "dev", LabNetwork.UplinkInterface, "nodad");
        await IpAsync(cancellationToken, "-n", node, "link", "set", LabNetwork.UplinkInterface, "up");
        await IpAsync(cancellationToken, "-n", cloud, "addr", "add", $"{LabNetwork.Cloud4}/24", "dev", "eth0");
        await IpAsync(cancellationToken, "-n", cloud, "addr", "add", $"{LabNetwork.Cloud6}/64", "dev", "eth0", "nodad");
        await IpAsync(cancellationToken, "-n", cloud, "link", "set", "eth0", "up");
        await IpAsync(cancellationToken, "-n", cloud, "addr", "add", $"{LabNetwork.Metadata4}/32", "dev", "lo");
        await IpAsync(cancellationToken, "-n", cloud, "addr", "add", $"{LabNetwork.Metadata6}/128", "dev", "lo");
        await IpAsync(cancellationToken, "-n", node, "route", "add", "default", "via", LabNetwork.Cloud4.ToString());
        await IpAsync(cancellationToken, "-n", node, "-6", "route", "add", "default", "via", LabNetwork.Cloud6.ToString());
        await IpAsync(cancellationToken, "-n", cloud, "route", "add", LabNetwork.PodCidr4, "via", LabNetwork.NodeUplink4.ToString());
        await IpAsync(cancellationToken, "-n", cloud, "-6", "route", "add", LabNetwork.PodCidr6, "via", LabNetwork.NodeUplink6.ToString());

        await IpAsync(cancellationToken, "-n", node, "link", "add", LabNetwork.PodBridge, "type", "bridge", "mcast_snooping", "0");
        await IpAsync(cancellationToken, "-n", node, "addr", "add", $"{LabNetwork.PodGateway4}/24", "dev", LabNetwork.PodBridge);
        await IpAsync(cancellationToken, "-n", node, "addr", "add", $"{LabNetwork.PodGateway6}/64", "dev", LabNetwork.PodBridge, "nodad");
        await IpAsync(cancellationToken, "-n", node, "link", "set", LabNetwork.PodBridge, "up");
        // A node routes pod traffic out of its uplink: without interception, pods reach the cloud's metadata server.
        await SysctlAsync(node, cancellationToken, "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1");
    }

    private async Task AddNamespaceAsync(string name, CancellationToken cancellationToken)
    {
        (await ProcessRunner.RunAsync(["ip", "netns", "add", name], cancellationToken: cancellationToken)).EnsureSuccess();
        _namespaces.Add(name);
        // Addresses are usable at once (no duplicate address detection), in this namespace only.
        await SysctlAsync(name, cancellationToken, "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0");
        await IpAsync(cancellationToken, "-n", name, "link", "set", "lo", "up");
    }

    private async Task SysctlAsync(string networkNamespace, CancellationToken cancellationToken, params string[] settings) =>
        (await ExecAsync(networkNamespace, ["sysctl", "-q", "-w", .. settings], null, cancellationToken: cancellationToken)).EnsureSuccess();

    private static async Task IpAsync(CancellationToken cancellationToken, params string[] arguments) =>
        (await ProcessRunner.RunAsync(["ip", .. arguments], cancellationToken: cancellationToken)).EnsureSuccess();

    [GeneratedRegex("^[a-z0-9]{1,12}$")]
    private static partial Regex PodName();
}
