using System.Collections.Concurrent;
using System.Net.Sockets;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace MetadataProxy.TestServers.Google;

/// <summary>
/// Google STS (Workload Identity Federation) and IAM Credentials on loopback Kestrel, strict like Google:
/// every rejection carries Google's error shape. Also serves the ID-token signer's keys at <c>/oauth2/v3/certs</c>.
/// </summary>
public sealed class GoogleTestServer : IAsyncDisposable
{
    private readonly GoogleTestSettings _settings = new();
    private readonly ConcurrentDictionary<string, WorkloadIdentityProvider> _providers = new(StringComparer.Ordinal);
    private readonly IamPolicy _policy = new();
    private readonly AccessTokenStore _tokens = new();
    private readonly GoogleIdTokenSigner _idTokens = new();
    private readonly JwksFetcher _fetcher = new();
    private readonly CallCounter _stsCalls = new();
    private readonly CallCounter _accessTokenCalls = new();
    private readonly CallCounter _idTokenCalls = new();
    private readonly ConcurrentQueue<StsRequestRecord> _stsRequests = new();
    private readonly ConcurrentQueue<IamRequestRecord> _iamRequests = new();
    private readonly ConcurrentDictionary<string, byte> _connections = new(StringComparer.Ordinal);
    private WebApplication? _app;
    private Socket? _listenSocket;

    private GoogleTestServer()
    {
    }

    public Uri BaseAddress { get; private set; } = null!;

    public Uri StsTokenUrl => new(BaseAddress, "v1/token");

    /// <summary>Paths below it: <c>v1/projects/-/serviceAccounts/{email}:generateAccessToken</c> and <c>:generateIdToken</c>.</summary>
    public Uri IamCredentialsBaseUrl => BaseAddress;

    /// <summary>Where <see cref="GoogleJwksJson"/> is served, like https://www.googleapis.com/oauth2/v3/certs.</summary>
    public Uri GoogleCertsUrl => new(BaseAddress, "oauth2/v3/certs");

    /// <summary>Public keys of the ID-token signer (<c>iss</c> https://accounts.google.com).</summary>
    public string GoogleJwksJson => _idTokens.JwksJson;

    public FaultInjection Sts { get; } = new(status => GoogleErrorBodies.OAuth(GoogleErrorBodies.OAuthErrorFor(status), $"Injected fault: HTTP {status}."));

    public FaultInjection Iam { get; } = new(status => GoogleErrorBodies.Rpc(status, $"Injected fault: HTTP {status}."));

    /// <summary>Used for exp/iat checks and issued expiries (not for injected latency, which is wall-clock).</summary>
    public TimeProvider Time { get => _settings.Time; set => _settings.Time = value; }

    /// <summary>Lifetime of STS tokens; also caps generateAccessToken's requested lifetime. Default 1 h.</summary>
    public TimeSpan AccessTokenLifetime { get => _settings.AccessTokenLifetime; set => _settings.AccessTokenLifetime = value; }

    /// <summary>Longest <c>exp - iat</c> STS accepts in a subject token. Default 48 h.</summary>
    public TimeSpan MaxSubjectTokenLifetime { get => _settings.MaxSubjectTokenLifetime; set => _settings.MaxSubjectTokenLifetime = value; }

    /// <summary>Longest generateAccessToken lifetime; 12 h emulates constraints/iam.allowServiceAccountCredentialLifetimeExtension. Default 1 h.</summary>
    public TimeSpan MaxImpersonationLifetime { get => _settings.MaxImpersonationLifetime; set => _settings.MaxImpersonationLifetime = value; }

    public int StsCalls => _stsCalls.Value;

    public int GenerateAccessTokenCalls => _accessTokenCalls.Value;

    public int GenerateIdTokenCalls => _idTokenCalls.Value;

    public IReadOnlyList<StsRequestRecord> StsRequests => [.. _stsRequests];

    /// <summary>Distinct TCP connections that carried at least one request (STS, IAM or certs), since start.</summary>
    public int ConnectionsSeen => _connections.Count;

    public IReadOnlyList<IamRequestRecord> IamRequests => [.. _iamRequests];

    public static async Task<GoogleTestServer> StartAsync(CancellationToken ct = default)
    {
        var server = new GoogleTestServer();
        await server.StartKestrelAsync(ct);
        return server;
    }

    /// <summary>
    /// Serves on <paramref name="listenSocket"/>, a bound and listening TCP socket (one created inside another network
    /// namespace, say): <see cref="BaseAddress"/> is its local endpoint. The server owns the socket from here on and
    /// closes it when disposed, even if starting fails.
    /// </summary>
    public static async Task<GoogleTestServer> StartAsync(Socket listenSocket, CancellationToken ct = default)
    {
        var server = new GoogleTestServer { _listenSocket = listenSocket };
        try
        {
            await server.StartKestrelAsync(ct);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>The full resource name STS expects as <c>audience</c> for this provider.</summary>
    public static string ProviderResourceName(string projectNumber, string poolId, string providerId) =>
        $"//iam.googleapis.com/projects/{projectNumber}/locations/global/workloadIdentityPools/{poolId}/providers/{providerId}";

    /// <summary>The IAM member STS maps a subject to: <c>principal://…/workloadIdentityPools/P/subject/SUB</c>.</summary>
    public static string PrincipalFor(string projectNumber, string poolId, string subject) =>
        $"principal://iam.googleapis.com/projects/{projectNumber}/locations/global/workloadIdentityPools/{poolId}/subject/{subject}";

    /// <summary>The stable numeric ID the server gives a service account (<c>sub</c> and <c>azp</c> of its ID tokens).</summary>
    public static string ServiceAccountUniqueId(string serviceAccountEmail) => GoogleIdTokenSigner.UniqueIdFor(serviceAccountEmail);

    /// <summary>Registers (or replaces) an OIDC provider. Audiences default to the resource name with and without "https:".</summary>
    public void AddProvider(string projectNumber, string poolId, string providerId, string issuer, JwksSource jwks, IEnumerable<string>? allowedAudiences = null)
    {
        var name = ProviderResourceName(projectNumber, poolId, providerId);
        var audiences = allowedAudiences?.ToList() is { Count: > 0 } given ? given : WorkloadIdentityProvider.DefaultAudiences(name);
        _providers[name] = new WorkloadIdentityProvider(projectNumber, poolId, providerId, issuer, jwks, audiences);
    }

    /// <summary>
    /// Binds roles/iam.workloadIdentityUser and roles/iam.serviceAccountTokenCreator on the service account for
    /// <paramref name="principal"/> (an IAM member, or a <c>principalSet://…/workloadIdentityPools/P/*</c>).
    /// </summary>
    public void AllowImpersonation(string principal, string serviceAccountEmail) => _policy.Allow(principal, serviceAccountEmail);

    /// <summary>A valid bearer for <paramref name="principal"/> (<c>principal://…</c>, <c>serviceAccount:EMAIL</c>, <c>user:EMAIL</c>).</summary>
    public string IssueAccessToken(string principal, TimeSpan? lifetime = null)
    {
        var now = Time.GetUtcNow();
        var (kind, email) = principal switch
        {
            _ when principal.StartsWith("principal://", StringComparison.Ordinal) => (TokenKind.Federated, (string?)null),
            _ when principal.StartsWith("serviceAccount:", StringComparison.Ordinal) => (TokenKind.ServiceAccount, principal["serviceAccount:".Length..]),
            _ => (TokenKind.User, null),
        };
        string[] scopes = ["https://www.googleapis.com/auth/cloud-platform"];
        return _tokens.Issue(new TokenInfo(kind, principal, email, scopes, now, now + (lifetime ?? AccessTokenLifetime), null));
    }

    public TokenInfo? DescribeAccessToken(string accessToken) => _tokens.Find(accessToken);

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        _listenSocket?.Dispose();
        _fetcher.Dispose();
        _idTokens.Dispose();
    }

    private async Task StartKestrelAsync(CancellationToken ct)
    {
        var builder = LoopbackHost.CreateBuilder(_listenSocket);
        _app = builder.Build();
        _app.Use((context, next) =>
        {
            _connections.TryAdd(context.Connection.Id, 0);
            return next(context);
        });

        var sts = new StsEndpoint(
            new StsExchange(_providers, new SubjectTokenValidator(_fetcher, _settings), _tokens, _settings),
            Sts, _stsCalls, _stsRequests, _settings, _app.Lifetime.ApplicationStopping);
        var iam = new IamCredentialsEndpoint(
            new IamCredentialsService(_tokens, _policy, _idTokens, _settings),
            Iam, _accessTokenCalls, _idTokenCalls, _iamRequests, _settings, _app.Lifetime.ApplicationStopping);
        _app.MapPost("/v1/token", sts.HandleAsync);
        _app.MapPost(IamCredentialsEndpoint.Route, iam.HandleAsync);
        _app.MapGet("/oauth2/v3/certs", () => Results.Content(GoogleJwksJson, "application/json"));

        if (_listenSocket is not null)
            BaseAddress = new Uri($"http://{_listenSocket.LocalEndPoint}/");
        await _app.StartAsync(ct);
        if (_listenSocket is null)
        {
            var address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
            BaseAddress = new Uri(address.TrimEnd('/') + "/");
        }
    }
}
