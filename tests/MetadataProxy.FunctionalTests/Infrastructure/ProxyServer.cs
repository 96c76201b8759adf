using System.Net.Sockets;
using MetadataProxy.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace MetadataProxy.FunctionalTests.Infrastructure;

/// <summary>The real server, in-process on Kestrel with ephemeral loopback ports, configured like an operator would.</summary>
internal sealed class ProxyServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly TestConfigurationSource _configuration;

    private ProxyServer(WebApplication app, TestConfigurationSource configuration, Uri metadataUri, Uri adminUri)
    {
        _app = app;
        _configuration = configuration;
        MetadataUri = metadataUri;
        AdminUri = adminUri;
    }

    public Uri MetadataUri { get; }

    public Uri AdminUri { get; }

    /// <summary><c>host:port</c>, the form GCE_METADATA_HOST takes.</summary>
    public string HostAndPort => $"{MetadataUri.Host}:{MetadataUri.Port}";

    public IServiceProvider Services => _app.Services;

    /// <summary>Starts the server; with <paramref name="time"/>, every wait of the server's runs on that clock.</summary>
    public static async Task<ProxyServer> StartAsync(IDictionary<string, string?> configuration, TimeProvider? time = null)
    {
        var settings = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
        {
            ["Listen:Metadata"] = "http://127.0.0.1:0",
            ["Listen:Admin"] = "http://127.0.0.1:0",
            ["Listen:NodeSocket"] = "", // off unless a test names its own path: never the node's default
            ["Listen:AdminSocket"] = "", // likewise: Kubernetes mode's default is one path in /tmp, for one pod
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var (key, value) in configuration)
            settings[key] = value;

        var source = new TestConfigurationSource(settings);
        var app = Program.Build([], builder => builder.Add(source), time);
        await app.StartAsync();
        var listeners = app.Services.GetRequiredService<Listeners>();
        return new ProxyServer(app, source, ToUri(listeners.MetadataEndpoints[0]), ToUri(listeners.AdminEndpoints[0]));
    }

    /// <summary>A client whose connections leave from <paramref name="source"/>, so the server sees that caller (style guide, 11).</summary>
    public HttpClient CreateClient(IPAddress? source = null) => CreateClient(MetadataUri, source);

    public static HttpClient CreateClient(Uri baseAddress, IPAddress? source)
    {
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseProxy = false,
            ConnectCallback = async (context, cancellationToken) =>
            {
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    if (source is not null)
                        socket.Bind(new IPEndPoint(source, 0));
                    await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        return new HttpClient(handler) { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) };
    }

    public void Reconfigure(string key, string? value) => _configuration.Provider.SetAndReload(key, value);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private static Uri ToUri(IPEndPoint endpoint) => new($"http://{endpoint}/");
}
