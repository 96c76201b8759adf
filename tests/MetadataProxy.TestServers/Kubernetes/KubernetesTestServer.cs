using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using k8s;
using k8s.Models;
using MetadataProxy.TestServers.Jwt;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace MetadataProxy.TestServers.Kubernetes;

/// <summary>A Kubernetes API server on 127.0.0.1 that speaks the kube-apiserver's wire format for what MetadataProxy
/// uses: pod list/watch (field selectors, resourceVersions, bookmarks, 410 Expired), pod, ServiceAccount and Node
/// gets, the TokenRequest subresource and the issuer's OIDC discovery; with switches for the failures an informer
/// must survive. Timers (bookmarks, timeoutSeconds, GoDown) and token times run on <see cref="Time"/>.</summary>
public sealed partial class KubernetesTestServer : IAsyncDisposable
{
    private readonly ServerSettings _settings = new() { BearerToken = Base64Url.Encode(Guid.NewGuid().ToByteArray()) };
    private readonly ServerCounters _counters = new();
    private readonly JwtSigner _signer = new("kube-test-" + Guid.NewGuid().ToString("N")[..12]);
    private readonly ClusterStore _store;
    private readonly Outage _outage;
    private WebApplication? _app;
    private Socket? _listenSocket;
    private ApiServerCertificates? _certificates;

    private KubernetesTestServer()
    {
        _store = new ClusterStore(() => _settings.Time.GetUtcNow());
        _outage = new Outage(_settings);
    }

    public Uri BaseAddress => _settings.BaseAddress;

    public string BearerToken => _settings.BearerToken;

    public string Issuer => _settings.Issuer;

    public string JwksJson => _signer.JwksJson();

    public TimeSpan BookmarkInterval { get => _settings.BookmarkInterval; set => _settings.BookmarkInterval = value; }

    public TimeSpan? MaxTokenExpiration { get => _settings.MaxTokenExpiration; set => _settings.MaxTokenExpiration = value; }

    public TimeProvider Time { get => _settings.Time; set => _settings.Time = value; }

    public int PodListCalls => _counters.PodLists;

    /// <summary>Pod lists sent with resourceVersion=0 (served from the watch cache on a real API server).</summary>
    public int PodListsFromCache => _counters.PodListsFromCache;

    /// <summary>Requests answered 429 while <see cref="Throttle"/> was on.</summary>
    public int ThrottledRequests => _counters.ThrottledRequests;

    /// <summary>Watch requests (<c>watch=true</c>) answered 429 while <see cref="Throttle"/> was on.</summary>
    public int ThrottledWatches => _counters.ThrottledWatches;

    /// <summary>The resourceVersion of every pod list so far, in order: "" when the list sent none (the most recent
    /// state), "0" (any state, from the watch cache), or N (not older than N).</summary>
    public IReadOnlyList<string> PodListVersions => _counters.PodListVersions;

    public int PodWatchCalls => _counters.PodWatches;

    public int PodGets => _counters.PodGets;

    public int OpenWatches => _store.OpenWatches;

    public int ServiceAccountGets => _counters.ServiceAccountGets;

    public int NodeGets => _counters.NodeGets;

    public int NodePatches => _counters.NodePatches;

    /// <summary>Events created through the API (core v1), in order.</summary>
    public IReadOnlyList<Corev1Event> EventsCreated => _counters.EventsCreated;

    public int TokenRequests => _counters.TokenRequests;

    public IReadOnlyList<TokenRequestRecord> TokenRequestsMade => _counters.TokenRequestsMade;

    public int TokenReviews => _counters.TokenReviews;

    /// <summary>RBAC without <c>tokenreviews create</c>: every TokenReview answers 403.</summary>
    public bool DenyTokenReviews { get => _settings.DenyTokenReviews; set => _settings.DenyTokenReviews = value; }

    /// <summary>Completes once the number of open pod watches satisfies <paramref name="condition"/> (at once if it
    /// already does): "the informer's watch is established", "the watch is gone".</summary>
    public Task WaitForOpenWatchesAsync(Func<int, bool> condition, CancellationToken ct = default) =>
        _store.WhenOpenWatches(condition).WaitAsync(ct);

    public static async Task<KubernetesTestServer> StartAsync(CancellationToken ct = default)
    {
        var server = new KubernetesTestServer();
        try
        {
            await server.StartCoreAsync(ct);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Serves HTTPS with HTTP/2 and HTTP/1.1 (ALPN), as a kube-apiserver does, with a serving certificate signed by a
    /// cluster CA of its own that <see cref="WriteKubeconfig"/> and <see cref="ClientConfiguration"/> carry.
    /// </summary>
    public static async Task<KubernetesTestServer> StartTlsAsync(CancellationToken ct = default)
    {
        var server = new KubernetesTestServer { _certificates = ApiServerCertificates.Create() };
        try
        {
            await server.StartCoreAsync(ct);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>The protocols of the pod watch requests served so far ("HTTP/1.1", "HTTP/2"), in order.</summary>
    public IReadOnlyList<string> WatchProtocols => _counters.WatchProtocols;

    /// <summary>
    /// Serves on <paramref name="listenSocket"/>, a bound and listening TCP socket (one created inside another network
    /// namespace, say): <see cref="BaseAddress"/> is its local endpoint. The server owns the socket from here on and
    /// closes it when disposed, even if starting fails.
    /// </summary>
    public static async Task<KubernetesTestServer> StartAsync(Socket listenSocket, CancellationToken ct = default)
    {
        var server = new KubernetesTestServer { _listenSocket = listenSocket };
        try
        {
            await server.StartCoreAsync(ct);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>A client configuration for this server (the bearer token; the cluster CA when it speaks TLS).</summary>
    public KubernetesClientConfiguration ClientConfiguration() => new()
    {
        Host = BaseAddress.AbsoluteUri,
        AccessToken = BearerToken,
        SslCaCerts = _certificates is null ? null : [X509CertificateLoader.LoadCertificate(_certificates.Authority.RawData)],
    };

    public string WriteKubeconfig(string path)
    {
        File.WriteAllText(path, KubeconfigFile.Render(BaseAddress, BearerToken, _certificates?.AuthorityPem));
        return path;
    }

    public V1Pod AddPod(V1Pod pod) => _store.AddPod(pod);

    public V1Pod UpdatePod(string ns, string name, Action<V1Pod> mutate) => _store.UpdatePod(ns, name, mutate);

    public void DeletePod(string ns, string name) => _store.DeletePod(ns, name);

    public V1Pod MarkPodTerminating(string ns, string name) => _store.UpdatePod(ns, name, pod =>
    {
        pod.Metadata.DeletionTimestamp = KubeObjects.Seconds(Time.GetUtcNow());
        pod.Metadata.DeletionGracePeriodSeconds = pod.Spec?.TerminationGracePeriodSeconds ?? 30;
    });

    public V1Pod? GetPod(string ns, string name) => _store.GetPod(ns, name);

    public V1ServiceAccount AddServiceAccount(V1ServiceAccount sa) => _store.AddServiceAccount(sa);

    public V1ServiceAccount UpdateServiceAccount(string ns, string name, Action<V1ServiceAccount> mutate) => _store.UpdateServiceAccount(ns, name, mutate);

    public void DeleteServiceAccount(string ns, string name) => _store.DeleteServiceAccount(ns, name);

    public V1Node AddNode(V1Node node) => _store.AddNode(node);

    public V1Node? GetNode(string name) => _store.GetNode(name);

    public V1Node UpdateNode(string name, Action<V1Node> mutate) => _store.UpdateNode(name, mutate);

    /// <summary>Stalled watches: every open (and new) watch stream stays open but sends nothing, bookmarks included.</summary>
    public void StallWatches() => _settings.WatchStall.On();

    /// <summary>Stalled watch streams flow again, the queued lines first.</summary>
    public void ResumeWatches() => _settings.WatchStall.Off();

    /// <summary>Throttling (API Priority and Fairness): every API request answers 429 with Retry-After
    /// <paramref name="retryAfterSeconds"/>, until <see cref="StopThrottling"/>.</summary>
    public void Throttle(int retryAfterSeconds) => _settings.ThrottleRetryAfterSeconds = retryAfterSeconds;

    public void StopThrottling() => _settings.ThrottleRetryAfterSeconds = null;

    /// <summary>Completes once every open watch has been sent (flushed) every change made so far.</summary>
    public Task WaitForDeliveryAsync(CancellationToken ct = default) => _store.WaitForDeliveryAsync(ct);

    /// <summary>
    /// The next <paramref name="watches"/> watch requests (pods or ServiceAccounts) are refused with HTTP 410 and an
    /// Expired Status (<c>too old resource version: X (Y)</c>), as the API server answers a too-old resourceVersion on
    /// some paths, instead of a 200 stream that carries an ERROR event.
    /// </summary>
    public void AnswerWatchesGone(int watches) => _settings.WatchAnswers.AnswerGone(watches);

    /// <summary>Watch requests answered 410 by <see cref="AnswerWatchesGone"/> so far.</summary>
    public int WatchesAnsweredGone => _settings.WatchAnswers.AnsweredGone;

    /// <summary>Every new watch stream ends cleanly right after what it replays (nothing, for a watch from the latest
    /// resourceVersion), as behind a proxy that closes long requests at once; until <see cref="StopEndingWatches"/>.</summary>
    public void EndWatchesAtOnce() => _settings.WatchAnswers.EndAtOnce = true;

    public void StopEndingWatches() => _settings.WatchAnswers.EndAtOnce = false;

    /// <summary>Ends every open watch stream cleanly (the terminating chunk, after what is queued), as its timeoutSeconds would.</summary>
    public void EndWatches() => _store.EndWatches();

    /// <summary>Cuts every open watch connection mid-stream.</summary>
    public void DropWatches() => _store.AbortWatches();

    /// <summary>
    /// The watch cache falls behind: pod lists at resourceVersion "0" answer the pods as they are now, whatever changes
    /// later (as an API server whose cache lags, or another API server behind the load balancer, would); lists
    /// without a resourceVersion answer the current state. With <paramref name="frozen"/> it never catches up: a list
    /// not older than a later resourceVersion is answered 504 "Too large resource version".
    /// </summary>
    public void ServeStalePodCache(bool frozen = false) => _store.ServeStalePodCache(frozen);

    public void ServeCurrentPodCache() => _store.ServeCurrentPodCache();

    /// <summary>etcd compaction: every resourceVersion issued so far is now too old to watch from.</summary>
    public void ExpireResourceVersions() => _store.ExpireResourceVersions();

    /// <summary>Every request resets its connection and open watches are cut, until <see cref="ComeUp"/>.</summary>
    public void GoDown() => GoDownCore(null);

    /// <summary>Every request resets its connection and open watches are cut, for <paramref name="duration"/> of <see cref="Time"/>.</summary>
    public void GoDown(TimeSpan duration) => GoDownCore(duration);

    public void ComeUp() => _outage.ComeUp();

    public async ValueTask DisposeAsync()
    {
        _store.AbortWatches();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        _listenSocket?.Dispose();
        _signer.Dispose();
        _certificates?.Dispose();
    }

    private void GoDownCore(TimeSpan? duration)
    {
        _outage.GoDown(duration);
        _store.AbortWatches();
    }

    private static WebApplicationBuilder TlsBuilder(ApiServerCertificates certificates)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrelHttpsConfiguration();
        builder.WebHost.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen =>
        {
            listen.Protocols = HttpProtocols.Http1AndHttp2;
            listen.UseHttps(certificates.Serving);
        }));
        return builder;
    }

    private async Task StartCoreAsync(CancellationToken ct)
    {
        var builder = _certificates is { } certificates ? TlsBuilder(certificates) : LoopbackHost.CreateBuilder(_listenSocket);

        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(5));
        builder.Services.AddSingleton(_settings);
        builder.Services.AddSingleton(_counters);
        builder.Services.AddSingleton(_store);
        builder.Services.AddSingleton(_outage);
        builder.Services.AddSingleton(_signer);
        builder.Services.AddSingleton<ServiceAccountTokenIssuer>();
        builder.Services.AddSingleton<TokenReviewer>();

        var app = builder.Build();
        app.UseMiddleware<RequestGate>();
        app.MapPods();
        app.MapObjects();
        app.MapEvents();
        app.MapSecrets(_store);
        app.MapLeases(_store);
        app.MapServiceAccounts();
        app.MapTokenRequest();
        app.MapTokenReview();
        app.MapDiscovery();
        app.MapFallback("{*path}", () => KubeResults.Status(KubeStatus.NoSuchPath()));
        _app = app;

        if (_listenSocket is not null)
            _settings.BaseAddress = new Uri($"http://{_listenSocket.LocalEndPoint}/");
        await app.StartAsync(ct);
        if (_listenSocket is null)
        {
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            _settings.BaseAddress = new Uri(address.TrimEnd('/') + "/");
        }
    }
}
