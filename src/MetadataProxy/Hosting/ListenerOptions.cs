namespace MetadataProxy.Hosting;

/// <summary><c>Listen:Metadata</c> and <c>Listen:Admin</c>: one or more <c>http://address:port</c> URLs separated by ';'.</summary>
internal sealed class ListenerOptions
{
    public const string Section = "Listen";

    public const string DefaultNodeSocket = "/var/run/metadata-proxy/node.sock";

    public string? Metadata { get; set; }

    public string? Admin { get; set; }

    /// <summary>
    /// A Unix socket that only root on the node (and the server itself) may use: the node identity and the kubelet
    /// plugin's exchange. Empty turns it off; Kubernetes mode defaults it on.
    /// </summary>
    public string? NodeSocket { get; set; }

    /// <summary>Open connections the server accepts at most, over all listeners.</summary>
    public int MaxConnections { get; set; } = 1024;

    public void ApplyDefaults(ProxyMode mode)
    {
        Metadata ??= mode == ProxyMode.Kubernetes ? "http://169.254.169.252:988" : "http://127.0.0.1:8080";
        Admin ??= mode == ProxyMode.Kubernetes ? "http://0.0.0.0:9988" : "http://127.0.0.1:9988";
        NodeSocket ??= mode == ProxyMode.Kubernetes ? DefaultNodeSocket : "";
    }

    public bool NodeSocketEnabled => !string.IsNullOrWhiteSpace(NodeSocket);
}
