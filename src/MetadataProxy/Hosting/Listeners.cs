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

    public List<KestrelListenOptions> NodeSocket { get; } = [];

    public IReadOnlyList<IPEndPoint> MetadataEndpoints => Metadata.Select(l => l.IPEndPoint!).ToArray();

    public IReadOnlyList<IPEndPoint> AdminEndpoints => Admin.Select(l => l.IPEndPoint!).ToArray();
}
