using System.Collections.Concurrent;
using Google.Apis.Auth.OAuth2;
using Google.Apis.Auth.OAuth2.Responses;
using MetadataProxy.Identity;
using MetadataProxy.Tokens;
using Microsoft.Extensions.Options;

namespace MetadataProxy.Standalone;

/// <summary>
/// Standalone tokens: the loaded credential itself, or an impersonation of the identity's Google service account
/// through IAM Credentials. Google.Apis.Auth caches and refreshes each credential; this keeps one per
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

    private readonly ConcurrentDictionary<string, GoogleCredential> _scoped = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, OidcToken> _idTokens = new(StringComparer.Ordinal);

    public async ValueTask<TokenOutcome> GetAccessTokenAsync(CallerIdentity caller, IReadOnlyList<string> scopes, CancellationToken cancellationToken)
    {
        var (source, problem) = await credentials.GetAsync();
        if (source is null)
            return new TokenOutcome.Refused(TokenRefusal.NotConfigured, problem!);

        var credential = Cached(_scoped, $"{caller.GoogleServiceAccount}|{string.Join(' ', scopes)}", () => Scoped(source, caller.GoogleServiceAccount, scopes));
        return await UpstreamCall.RunAsync(tokenOptions.Value.UpstreamDeadline, time, async ct =>
        {
            var access = (ITokenAccess)credential;
            for (var attempt = 0; attempt < 2; attempt++)
            {
                var value = await access.GetAccessTokenForRequestAsync(cancellationToken: ct);
                // The library refreshes in place; read the expiry of the very token it handed out.
                if (CurrentToken(credential) is { } token && token.AccessToken == value)
                    return new TokenOutcome.AccessToken(value, new DateTimeOffset(token.IssuedUtc, TimeSpan.Zero).AddSeconds(token.ExpiresInSeconds ?? 0));
            }

            return new TokenOutcome.Refused(TokenRefusal.UpstreamUnavailable, "The credential did not report when its access token expires; retry shortly.");
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

                oidc = Cached(_idTokens, key, () => oidc);
            }

            return new TokenOutcome.IdToken(await oidc.GetAccessTokenAsync(ct));
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

    private static TokenResponse? CurrentToken(GoogleCredential credential) => credential.UnderlyingCredential switch
    {
        ServiceCredential service => service.Token,
        UserCredential user => user.Token,
        _ => null,
    };

    private static T Cached<T>(ConcurrentDictionary<string, T> cache, string key, Func<T> create)
    {
        if (cache.Count >= MaxCachedCredentials)
            cache.Clear();
        return cache.GetOrAdd(key, _ => create());
    }
}
