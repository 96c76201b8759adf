using System.Collections.Concurrent;
using Google.Apis.Auth.OAuth2;
using Google.Apis.Auth.OAuth2.Responses;
using MetadataProxy.Identity;
using MetadataProxy.Tokens;
using Microsoft.Extensions.Options;

namespace MetadataProxy.Standalone;

/// <summary>
/// Standalone tokens: the loaded credential itself, or an impersonation of the identity's Google service account
/// through IAM Credentials. Google.Apis.Auth caches each credential's token; this keeps one credential per
/// (service account, scopes) and one ID-token source per (service account, audience).
/// </summary>
internal sealed class StandaloneTokenProvider(
    StandaloneCredentials credentials,
    IOptions<WorkloadIdentityOptions> workloadIdentity,
    IOptions<TokenOptions> tokenOptions,
    TimeProvider time) : ITokenProvider
{
    /// <summary>Scopes come from callers; the caches must not grow without bound.</summary>
    private const int MaxCachedCredentials = 256;

    private readonly ConcurrentDictionary<string, ScopedCredential> _scoped = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, OidcToken> _idTokens = new(StringComparer.Ordinal);

    public async ValueTask<TokenOutcome> GetAccessTokenAsync(CallerIdentity caller, IReadOnlyList<string> scopes, CancellationToken cancellationToken)
    {
        var (source, problem) = await credentials.GetAsync();
        if (source is null)
            return new TokenOutcome.Refused(TokenRefusal.NotConfigured, problem!);

        var scoped = Cached(_scoped, $"{caller.GoogleServiceAccount}|{string.Join(' ', scopes)}",
            () => new ScopedCredential(Scoped(source, caller.GoogleServiceAccount, scopes)));
        return await UpstreamCall.RunAsync(tokenOptions.Value.UpstreamDeadline, time, async ct =>
        {
            var token = await scoped.GetAsync(ct);
            if (token is not null && token.ExpiresAt - time.GetUtcNow() < TokenCachePolicy.MinimumServeTime)
            {
                // Google.Apis.Auth refreshes only 3 min 45 s before expiry; TK-3 wants at least 5 minutes left.
                token = await scoped.RefreshAsync(token, ct);
            }

            return token is null
                ? new TokenOutcome.Refused(TokenRefusal.UpstreamUnavailable, "The credential did not report when its access token expires; retry shortly.")
                : token;
        }, cancellationToken);
    }

    public async ValueTask<TokenOutcome> GetIdTokenAsync(CallerIdentity caller, IdTokenRequest request, CancellationToken cancellationToken)
    {
        var (source, problem) = await credentials.GetAsync();
        if (source is null)
            return new TokenOutcome.Refused(TokenRefusal.NotConfigured, problem!);

        return await UpstreamCall.RunAsync(tokenOptions.Value.UpstreamDeadline, time, async ct =>
        {
            var key = $"{caller.GoogleServiceAccount}|{request.Audience}";
            if (!_idTokens.TryGetValue(key, out var oidc))
            {
                var credential = caller.GoogleServiceAccount is null ? source : Scoped(source, caller.GoogleServiceAccount, CallerIdentity.DefaultScopes);
                try
                {
                    oidc = await credential.GetOidcTokenAsync(OidcTokenOptions.FromTargetAudience(request.Audience), ct);
                }
                catch (InvalidOperationException) when (caller.GoogleServiceAccount is null)
                {
                    return new TokenOutcome.Refused(TokenRefusal.NoGoogleServiceAccount,
                        $"Identity {caller} has no Google service account and the configured credential cannot mint ID tokens: " +
                        "set GoogleServiceAccount for this identity in Standalone:Identities.");
                }

                var created = oidc;
                oidc = Cached(_idTokens, key, () => created);
            }

            var jwt = await oidc.GetAccessTokenAsync(ct);
            return JwtExpiry.Read(jwt) is { } expiresAt
                ? new TokenOutcome.IdToken(jwt, expiresAt)
                : new TokenOutcome.Refused(TokenRefusal.UpstreamUnavailable, "Google returned an ID token without an expiry; retry shortly.");
        }, cancellationToken);
    }

    private GoogleCredential Scoped(GoogleCredential source, string? googleServiceAccount, IReadOnlyList<string> scopes)
    {
        if (googleServiceAccount is null)
            return source.CreateScoped(scopes);
        return source.Impersonate(new ImpersonatedCredential.Initializer(googleServiceAccount)
        {
            Scopes = scopes,
            HttpClientFactory = new IamEndpointHttpClientFactory(workloadIdentity.Value.IamCredentialsEndpoint),
        });
    }

    private static T Cached<T>(ConcurrentDictionary<string, T> cache, string key, Func<T> create)
    {
        if (cache.Count >= MaxCachedCredentials)
            cache.Clear();
        return cache.GetOrAdd(key, _ => create());
    }

    /// <summary>One scoped credential and the expiry of the token it holds.</summary>
    /// <remarks>The semaphore never allocates a wait handle (no AvailableWaitHandle), so dropping it needs no Dispose.</remarks>
#pragma warning disable CA1001
    private sealed class ScopedCredential(GoogleCredential credential)
    {
        private readonly SemaphoreSlim _refresh = new(1, 1);

        public async Task<TokenOutcome.AccessToken?> GetAsync(CancellationToken cancellationToken)
        {
            var value = await ((ITokenAccess)credential).GetAccessTokenForRequestAsync(cancellationToken: cancellationToken);
            return Describe(value);
        }

        /// <summary>Replaces <paramref name="stale"/> once, however many callers saw it at the same time.</summary>
        public async Task<TokenOutcome.AccessToken?> RefreshAsync(TokenOutcome.AccessToken stale, CancellationToken cancellationToken)
        {
            await _refresh.WaitAsync(cancellationToken);
            try
            {
                if (Current() is { } current && current.AccessToken != stale.Value)
                    return Describe(current.AccessToken);
                switch (credential.UnderlyingCredential)
                {
                    case ServiceCredential service:
                        await service.RequestAccessTokenAsync(cancellationToken);
                        break;
                    case UserCredential user:
                        await user.RefreshTokenAsync(cancellationToken);
                        break;
                }

                return Current() is { } refreshed ? Describe(refreshed.AccessToken) : null;
            }
            finally
            {
                _refresh.Release();
            }
        }

        private TokenOutcome.AccessToken? Describe(string value) =>
            Current() is { } token && token.AccessToken == value && token.ExpiresInSeconds is { } seconds
                ? new TokenOutcome.AccessToken(value, new DateTimeOffset(token.IssuedUtc, TimeSpan.Zero).AddSeconds(seconds))
                : null;

        private TokenResponse? Current() => credential.UnderlyingCredential switch
        {
            ServiceCredential service => service.Token,
            UserCredential user => user.Token,
            _ => null,
        };
    }
#pragma warning restore CA1001
}
