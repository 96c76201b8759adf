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
/// account, IAM Credentials is then called as that federated identity (<see cref="IamCredentialsClient"/>). Each
/// account keeps its credentials (<see cref="AccountCredentials"/>): with impersonation one federated token serves
/// every scope set and audience of the account, so a new scope set costs one IAM call and no STS exchange. Every
/// fetch takes a slot of the <see cref="UpstreamGate"/> (fair between accounts, bounded per account), and every call
/// goes over one shared handler (one connection pool for all of Google). Nothing retries on its own: a retry would
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

    /// <summary>What the federated identity needs to call IAM Credentials, as Google.Apis.Auth's own impersonation scopes it.</summary>
    private static readonly string[] IamScopes = ["https://www.googleapis.com/auth/iam"];

    private readonly ConcurrentDictionary<string, AccountCredentials> _accounts = new(StringComparer.Ordinal);
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
        RunAsync(caller, ct => caller.GoogleServiceAccount is { } gsa
            ? CredentialsOf(caller).Iam.GenerateAccessTokenAsync(gsa, scopes, ct)
            : AccessTokenOfAsync(CredentialsOf(caller).Direct(scopes, () => Federated(caller, scopes, PodSubject(caller))), ct), cancellationToken);

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
            return caller.GoogleServiceAccount is { } gsa
                ? IamCredentialsClient.For(Federated(caller, IamScopes, subject), HttpClients()).GenerateAccessTokenAsync(gsa, scopes, ct)
                : AccessTokenOfAsync(Federated(caller, scopes, subject), ct);
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

    /// <summary>An ID token for <paramref name="caller"/>'s Google service account (callers without one are refused before).</summary>
    public Task<TokenOutcome> FetchIdTokenAsync(CallerIdentity caller, IdTokenRequest request, CancellationToken cancellationToken) =>
        RunAsync(caller, ct => caller.GoogleServiceAccount is { } gsa
            ? CredentialsOf(caller).Iam.GenerateIdTokenAsync(gsa, request.Audience, ct)
            : Task.FromResult<TokenOutcome>(new TokenOutcome.Refused(TokenRefusal.NoGoogleServiceAccount, $"{caller} has no Google service account to sign an ID token.")),
            cancellationToken);

    /// <summary>Drops the credentials of accounts no live pod uses; <paramref name="keep"/> is given each account's key.</summary>
    public void Forget(Func<string, bool> keep)
    {
        foreach (var key in _accounts.Keys.Where(k => !keep(k)).ToList())
            _accounts.TryRemove(key, out _);
    }

    /// <summary>The <c>namespace/name/uid</c> part of an account key.</summary>
    public static string AccountOf(string accountKey) => accountKey[..accountKey.IndexOf('|', StringComparison.Ordinal)];

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
        new(options.Value.IamCredentialsEndpoint, new UpstreamMetricsHandler(metrics, time) { InnerHandler = _http }, tokenOptions.Value.UpstreamDeadline, time,
            options.Value.StsEndpoint);

    /// <summary>One entry per service account (by UID: a re-created account starts afresh) and quota project.</summary>
    private AccountCredentials CredentialsOf(CallerIdentity caller) =>
        _accounts.GetOrAdd($"{caller.Namespace}/{caller.KubernetesServiceAccount}/{caller.ServiceAccountUid}|{caller.QuotaProject}",
            static (_, state) => new AccountCredentials(() =>
                IamCredentialsClient.For(state.Exchange.Federated(state.Caller, IamScopes, state.Exchange.PodSubject(state.Caller)), state.Exchange.HttpClients())),
            (Exchange: this, Caller: caller));

    private PodSubjectTokenProvider PodSubject(CallerIdentity caller) => new(caller, ksaTokens, pods);

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
}
