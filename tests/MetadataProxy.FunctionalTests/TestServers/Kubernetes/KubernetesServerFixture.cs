using k8s;
using MetadataProxy.TestServers.Kubernetes;

namespace MetadataProxy.FunctionalTests.TestServers.Kubernetes;

/// <summary>A fresh server per test, and a real client for it.</summary>
public abstract class KubernetesServerFixture : IAsyncLifetime
{
    private KubernetesTestServer? _server;
    private k8s.Kubernetes? _client;

    protected KubernetesTestServer Server => _server ?? throw new InvalidOperationException("not started");

    protected IKubernetes Client => _client ?? throw new InvalidOperationException("not started");

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _server = await KubernetesTestServer.StartAsync(Ct);
        _client = new k8s.Kubernetes(_server.ClientConfiguration());
    }

    public async ValueTask DisposeAsync()
    {
        _client?.Dispose();
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        GC.SuppressFinalize(this);
    }
}
