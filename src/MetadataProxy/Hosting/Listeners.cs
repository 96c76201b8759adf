using System.Net;
using KestrelListenOptions = Microsoft.AspNetCore.Server.Kestrel.Core.ListenOptions;

namespace MetadataProxy.Hosting;

/// <summary>The sockets Kestrel bound for each listener; after start they carry the real ports (port 0 in tests).</summary>
internal sealed class Listeners
{
    public const string ConnectionItemKey = "metadata-proxy-listener";
    public const string MetadataListener = "metadata";
    public const string AdminListener = "admin";
    public const string NodeSocketListener = "node-socket";

    public List<KestrelListenOptions> Metadata { get; } = [];

    public List<KestrelListenOptions> Admin { get; } = [];

    /// <summary>IPv6 metadata addresses of <c>Listen:Metadata</c> that were not on the node at start, so not bound (<see cref="OptionalListenAddress"/>).</summary>
    public List<IPEndPoint> MetadataAbsent { get; } = [];

    public List<KestrelListenOptions> NodeSocket { get; } = [];

    public IReadOnlyList<IPEndPoint> MetadataEndpoints => Metadata.Select(l => l.IPEndPoint!).ToArray();

    public IReadOnlyList<IPEndPoint> AdminEndpoints => Admin.Select(l => l.IPEndPoint!).ToArray();
}
