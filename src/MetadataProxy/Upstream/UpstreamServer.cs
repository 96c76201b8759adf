using System.Net;
using Microsoft.Extensions.Options;

namespace MetadataProxy.Upstream;

/// <summary>
/// The VM's own metadata server as this process sees it: whether the passthrough is on, the one pooled connection
/// to it (no proxy, no redirects, no cookies, no activity headers) and whether it is known not to be this server.
/// </summary>
internal sealed partial class UpstreamServer : IDisposable
{
    private readonly Lazy<HttpMessageInvoker> _client;
    private volatile UpstreamState _state = UpstreamState.Unchecked;

    public UpstreamServer(IOptions<UpstreamOptions> options, ILogger<UpstreamServer> logger)
    {
        var value = options.Value;
        Address = value.Address.TrimEnd('/');
        Allow = value.EffectiveAllow();
        Enabled = value.Mode switch
        {
            UpstreamMode.Passthrough => true,
            UpstreamMode.Auto => ComputeEngine.Detected(),
            _ => false,
        };
        if (value.Mode == UpstreamMode.Auto)
            Log.AutoDecided(logger, Enabled ? "a Compute Engine VM: passthrough on" : "not a Compute Engine VM: passthrough off");
        _client = new Lazy<HttpMessageInvoker>(CreateClient);
    }

    public bool Enabled { get; }

    public string Address { get; }

    public UpstreamAllowList Allow { get; }

    public UpstreamState State
    {
        get => _state;
        set => _state = value;
    }

    public HttpMessageInvoker Client => _client.Value;

    public void Dispose()
    {
        if (_client.IsValueCreated)
            _client.Value.Dispose();
    }

    private static HttpMessageInvoker CreateClient() => new(new SocketsHttpHandler
    {
        UseProxy = false,
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
        UseCookies = false,
        ActivityHeadersPropagator = null,
        ConnectTimeout = TimeSpan.FromSeconds(2),
        PooledConnectionIdleTimeout = TimeSpan.FromSeconds(50),
        EnableMultipleHttp2Connections = true,
    }, disposeHandler: true);

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Upstream:Mode=Auto: {Decision}")]
        public static partial void AutoDecided(ILogger logger, string decision);
    }
}
