using System.Collections.Concurrent;
using Google.Apis.Auth.OAuth2;
using Google.Apis.Http;
using MetadataProxy.Identity;
using MetadataProxy.Operations;
using MetadataProxy.Pods;
using Microsoft.Extensions.Options;

namespace MetadataProxy.Tokens;

/// <summary>
/// Turns a caller's KSA into Google tokens with Google.Apis.Auth doing the OAuth work: a
/// <see cref="ProgrammaticExternalAccountCredential"/> exchanges a pod-bound KSA token at STS; with a Google service
/// account it is impersonated through IAM Credentials. One credential chain per (KSA, GSA, scopes), so the
/// library's own cache keeps the federated token; every fetch here asks for a new final token. Every fetch takes a
/// slot of the <see cref="UpstreamGate"/> (fair between accounts, bounded per account), and every chain sends over
/// one shared handler (one connection pool for all of Google). The library does not retry on its own: a retry would
/// hold a slot through its back-off and outlive the caller; clients retry on the 503.
/// </summary>
internal sealed class WorkloadIdentityExchange(
    KsaTokenSource ksaTokens,
    PodIndex pods,
    IOptions<WorkloadIdentityOptions> options,
    IOptions<TokenOptions> tokenOptions,
    ProxyMetrics metrics,
    TimeProvider time) : IDisposable
{
    private const string JwtTokenType = "urn:ietf:params:oauth:token-type:jwt";

    /// <summary>Distinct scope sets kept per account; past it the account's oldest chains go, never other accounts'.</summary>
    private const int MaxChainsPerAccount = 32;

    private readonly ConcurrentDictionary<string, GoogleCredential> _chains = new(StringComparer.Ordinal);
    private readonly UpstreamGate _gate = new(tokenOptions.Value.MaxConcurrentGoogleCalls, tokenOptions.Value.MaxFetchesPerAccount);
    private readonly SocketsHttpHandler _http = new()
    {
        AllowAutoRedirect = false, // as Google.Apis' own handler: its message handler follows redirects itself
        AutomaticDecompression = System.Net.DecompressionMethods.GZip | System.Net.DecompressionMethods.Deflate,
        PooledConnectionLifetime = TimeSpan.FromMinutes(5), // Google's addresses change: reconnect now and then
        ConnectTimeout = TimeSpan.FromSeconds(5),
    };

    /// <summary>Fetches waiting for a shared Google slot.</summary>
    public int Queued => _gate.Queued;

    public Task<TokenOutcome> FetchAccessTokenAsync(CallerIdentity caller, IReadOnlyList<string> scopes, CancellationToken cancellationToken) =>
        RunAsync(caller, ct => AccessTokenOfAsync(Chain(caller, scopes), ct), cancellationToken);

    /// <summary>The unit of fairness: one Kubernetes service account.</summary>
    public static string FairnessKey(CallerIdentity caller) => $"{caller.Namespace}/{caller.KubernetesServiceAccount}";

    /// <summary>
    /// KEP-4412: the kubelet's own token for the pulling pod is the subject. The chain is not kept: the token is the
    /// kubelet's, and its next call brings a fresh one; the caller's token cache keeps the result.
    /// </summary>
    public Task<TokenOutcome> ExchangeAsync(CallerIdentity caller, IReadOnlyList<string> scopes, string subjectToken, CancellationToken cancellationToken) =>
        RunAsync(caller, ct =>
        {
            var subject = new GivenSubjectToken(subjectToken);
            var chain = caller.GoogleServiceAccount is { } gsa
                ? Impersonate(Federated(caller, scopes: null, subject), gsa, scopes)
                : Federated(caller, scopes, subject);
            return AccessTokenOfAsync(chain, ct);
        }, cancellationToken);

    private static async Task<TokenOutcome> AccessTokenOfAsync(GoogleCredential chain, CancellationToken cancellationToken)
    {
        var underlying = (ServiceCredential)chain.UnderlyingCredential;
        await underlying.RequestAccessTokenAsync(cancellationToken);
        var token = underlying.Token;
        return token?.AccessToken is { Length: > 0 } value && token.ExpiresInSeconds is { } seconds
            ? new TokenOutcome.AccessToken(value, new DateTimeOffset(token.IssuedUtc, TimeSpan.Zero).AddSeconds(seconds))
            : new TokenOutcome.Refused(TokenRefusal.UpstreamUnavailable, "Google answered without an access token or its lifetime.");
    }

    public Task<TokenOutcome> FetchIdTokenAsync(CallerIdentity caller, IdTokenRequest request, CancellationToken cancellationToken) =>
        RunAsync(caller, async ct =>
        {
            var oidc = await Chain(caller, CallerIdentity.DefaultScopes).GetOidcTokenAsync(OidcTokenOptions.FromTargetAudience(request.Audience), ct);
            var jwt = await oidc.GetAccessTokenAsync(ct);
            return JwtExpiry.Read(jwt) is { } expiresAt
                ? new TokenOutcome.IdToken(jwt, expiresAt)
                : new TokenOutcome.Refused(TokenRefusal.UpstreamUnavailable, "Google returned an ID token without an expiry.");
        }, cancellationToken);

    /// <summary>Drops credential chains of accounts no live pod uses.</summary>
    public void Forget(Func<string, bool> keep)
    {
        foreach (var key in _chains.Keys.Where(k => !keep(k)).ToList())
            _chains.TryRemove(key, out _);
    }

    public static string AccountOf(string chainKey) => chainKey[..chainKey.IndexOf('|', StringComparison.Ordinal)];

    public void Dispose() => _http.Dispose();

    private async Task<TokenOutcome> RunAsync(CallerIdentity caller, Func<CancellationToken, Task<TokenOutcome>> call, CancellationToken cancellationToken)
    {
        var account = FairnessKey(caller);
        if (_gate.TryEnterAsync(account, cancellationToken) is not { } entering)
        {
            metrics.TokenFetchRefused("account_fetch_limit");
            return new TokenOutcome.Refused(TokenRefusal.Throttled,
                $"Kubernetes service account {account} already has {tokenOptions.Value.MaxFetchesPerAccount} token fetches in progress " +
                "(Tokens:MaxFetchesPerAccount); retry when they have answered.", TimeSpan.FromSeconds(1));
        }

        IDisposable slot;
        try
        {
            slot = await entering;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            metrics.TokenFetchRefused("abandoned");
            return new TokenOutcome.Refused(TokenRefusal.UpstreamUnavailable, "Nobody waits for this token any more; it was not fetched.");
        }

        using (slot)
        {
            try
            {
                // Once started, a call runs to its deadline even if its callers left: Google.Apis.Auth shares its
                // refreshes between chains, and a caller's cancellation must not end one another chain waits for.
                return await UpstreamCall.RunAsync(tokenOptions.Value.UpstreamDeadline, time, call, CancellationToken.None);
            }
            catch (KsaSubjectTokenException e)
            {
                return new TokenOutcome.Refused(e.Retryable ? TokenRefusal.UpstreamUnavailable : TokenRefusal.UpstreamRejected, e.Message);
            }
        }
    }

    // Every call is counted and timed on its way to the one shared handler (the wrapper owns nothing; it is never
    // disposed), and ends at the upstream deadline whoever waits for it (see IamEndpointHttpClientFactory).
    private IamEndpointHttpClientFactory HttpClients() =>
        new(options.Value.IamCredentialsEndpoint, new UpstreamMetricsHandler(metrics, time) { InnerHandler = _http }, tokenOptions.Value.UpstreamDeadline, time);

    /// <summary>
    /// The final credential: the federated source itself for direct resource access (it carries the scopes), else an
    /// impersonation on top of the account's one federated source, so one STS token serves every scope set.
    /// </summary>
    private GoogleCredential Chain(CallerIdentity caller, IReadOnlyList<string> scopes)
    {
        var account = $"{caller.Namespace}/{caller.KubernetesServiceAccount}/{caller.ServiceAccountUid}|{caller.QuotaProject}";
        if (caller.GoogleServiceAccount is not { } gsa)
            return Cached($"{account}|direct|{string.Join(' ', scopes)}", () => Federated(caller, scopes, PodSubject(caller)));
        var source = Cached($"{account}|source", () => Federated(caller, scopes: null, PodSubject(caller)));
        return Cached($"{account}|{gsa}|{string.Join(' ', scopes)}", () => Impersonate(source, gsa, scopes));
    }

    private PodSubjectTokenProvider PodSubject(CallerIdentity caller) => new(caller, ksaTokens, pods);

    private GoogleCredential Impersonate(GoogleCredential source, string gsa, IReadOnlyList<string> scopes) =>
        source.Impersonate(new ImpersonatedCredential.Initializer(gsa)
        {
            Scopes = scopes,
            HttpClientFactory = HttpClients(),
            DefaultExponentialBackOffPolicy = ExponentialBackOffPolicy.None,
            Clock = new TimeProviderClock(time),
        });

    private GoogleCredential Federated(CallerIdentity caller, IReadOnlyList<string>? scopes, ProgrammaticExternalAccountCredential.ISubjectTokenProvider subject)
    {
        var wi = options.Value;
        var federated = new ProgrammaticExternalAccountCredential(new ProgrammaticExternalAccountCredential.Initializer(
            wi.StsEndpoint.AbsoluteUri, wi.ProviderResourceName(), JwtTokenType, subject)
        {
            Scopes = scopes,
            HttpClientFactory = HttpClients(),
            DefaultExponentialBackOffPolicy = ExponentialBackOffPolicy.None,
            Clock = new TimeProviderClock(time),
        });
        var source = GoogleCredential.FromProgrammaticExternalAccountCredential(federated);
        return caller.QuotaProject is null ? source : source.CreateWithQuotaProject(caller.QuotaProject);
    }

    private GoogleCredential Cached(string key, Func<GoogleCredential> create)
    {
        if (_chains.TryGetValue(key, out var chain))
            return chain;
        var account = AccountOf(key) + "|";
        var mine = _chains.Keys.Where(k => k.StartsWith(account, StringComparison.Ordinal) && !k.EndsWith("|source", StringComparison.Ordinal)).ToList();
        if (mine.Count >= MaxChainsPerAccount)
        {
            foreach (var old in mine.Take(mine.Count - MaxChainsPerAccount + 1))
                _chains.TryRemove(old, out _);
        }

        return _chains.GetOrAdd(key, _ => create());
    }
}
