using MetadataProxy.FunctionalTests.Infrastructure;

namespace MetadataProxy.FunctionalTests.Conformance;

/// <summary>One server with the spec's fixture, shared by the read-only conformance tests.</summary>
public sealed class ConformanceServer : IAsyncLifetime
{
    /// <summary>A caller whose identity maps to the fixture's Google service account.</summary>
    public static readonly IPAddress AppCaller = IPAddress.Parse("127.0.0.1");

    /// <summary>A caller with no Google service account (direct resource access).</summary>
    public static readonly IPAddress DirectCaller = IPAddress.Parse("127.0.0.2");

    /// <summary>A caller no identity is configured for.</summary>
    public static readonly IPAddress UnknownCaller = IPAddress.Parse("127.0.0.3");

    private ProxyServer? _server;

    internal ProxyServer Server => _server ?? throw new InvalidOperationException("Not started.");

    public HttpClient Client(IPAddress? caller = null) => Server.CreateClient(caller ?? AppCaller);

    public async ValueTask InitializeAsync()
    {
        var settings = Fixture.MetadataSettings();
        settings["Standalone:Identities:0:Cidr"] = "127.0.0.1/32";
        settings["Standalone:Identities:0:Namespace"] = "apps";
        settings["Standalone:Identities:0:ServiceAccount"] = "app";
        settings["Standalone:Identities:0:GoogleServiceAccount"] = Fixture.AppServiceAccount;
        settings["Standalone:Identities:1:Cidr"] = "127.0.0.2/32";
        settings["Standalone:Identities:1:Namespace"] = "apps";
        settings["Standalone:Identities:1:ServiceAccount"] = "direct";
        _server = await ProxyServer.StartAsync(settings);
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
            await _server.DisposeAsync();
    }
}
