namespace MetadataProxy.Hosting;

/// <summary>
/// <c>Listen:Metadata</c> and <c>Listen:Admin</c>: one or more <c>http://address:port</c> URLs separated by ';'. A
/// specific IPv6 metadata address that is not on the node at start is not bound (<see cref="OptionalListenAddress"/>).
/// </summary>
internal sealed class ListenerOptions
{
    public const string Section = "Listen";

    public const string KubernetesMetadata = "http://169.254.169.252:8988;http://[fd20:ce::252]:8988";

    public const string DefaultNodeSocket = "/var/run/metadata-proxy/node.sock";

    /// <summary>In the pod's own /tmp (an emptyDir): no other pod, not even the next release's on this node, shares it.</summary>
    public const string DefaultAdminSocket = "/tmp/metadata-proxy-admin.sock";

    /// <summary>How config.env (the environment) sets <see cref="AdminSocket"/>, named in the probe's messages.</summary>
    public const string AdminSocketVariable = "Listen__AdminSocket";

    public string? Metadata { get; set; }

    public string? Admin { get; set; }

    /// <summary>
    /// The admin endpoints (<c>/healthz</c>, <c>/readyz</c>, <c>/metrics</c>) on a Unix socket of this pod alone, for the
    /// kubelet's exec probes (<c>MetadataProxy probe /readyz</c>): during an upgrade two servers share the admin TCP port,
    /// and a probe there may reach the other one (issue 10, point 4). Empty turns it off; Kubernetes mode defaults it on.
    /// </summary>
    public string? AdminSocket { get; set; }

    /// <summary>
    /// A Unix socket that only root on the node (and the server itself) may use: the node identity and the kubelet
    /// plugin's exchange. Empty turns it off; Kubernetes mode defaults it on.
    /// </summary>
    public string? NodeSocket { get; set; }

    /// <summary>Open connections each listener (metadata, admin) accepts at most.</summary>
    public int MaxConnections { get; set; } = 4096;

    /// <summary>
    /// Open connections one source address may hold on the metadata listener (issue 9, row 1). Its wait_for_change
    /// requests hold connections too (at most <see cref="Metadata.MetadataService.MaxWaitsPerCaller"/>), so this
    /// must leave room beside them for its token and value requests, and for a burst of them on new connections
    /// (an application starting many threads at once).
    /// </summary>
    public int MaxConnectionsPerSource { get; set; } = 128;

    /// <summary>Open connections one source address may hold on the admin port (issue 9, row 2): probes and scrapes need few.</summary>
    public int AdminMaxConnectionsPerSource { get; set; } = 8;

    /// <summary>How long a client may take to send a request's headers (a slowloris connection is closed after it).</summary>
    public TimeSpan RequestHeadersTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long an idle keep-alive connection stays open between requests.</summary>
    public TimeSpan KeepAliveTimeout { get; set; } = TimeSpan.FromSeconds(30);

    public void ApplyDefaults(ProxyMode mode)
    {
        // Both families the interception script can send (its METADATA_PROXY_ADDRESS and METADATA_PROXY_ADDRESS6 defaults):
        // the IPv6 one is bound only when the script put it on lo (OptionalListenAddress).
        Metadata ??= mode == ProxyMode.Kubernetes ? KubernetesMetadata : "http://127.0.0.1:8080";
        Admin ??= mode is ProxyMode.Kubernetes or ProxyMode.PullSecrets ? "http://0.0.0.0:9988" : "http://127.0.0.1:9988";
        NodeSocket ??= mode == ProxyMode.Kubernetes ? DefaultNodeSocket : "";
        AdminSocket ??= mode == ProxyMode.Kubernetes ? DefaultAdminSocket : "";
    }

    public bool NodeSocketEnabled => !string.IsNullOrWhiteSpace(NodeSocket);

    public bool AdminSocketEnabled => !string.IsNullOrWhiteSpace(AdminSocket);
}
