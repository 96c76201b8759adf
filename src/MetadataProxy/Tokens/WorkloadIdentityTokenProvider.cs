using MetadataProxy.Identity;
using MetadataProxy.Operations;
using Microsoft.Extensions.Options;

namespace MetadataProxy.Tokens;

/// <summary>
/// Kubernetes mode's tokens (decision 4): from the cache when there, else one exchange per key; a caller never waits
/// longer than <c>Tokens:UpstreamDeadline</c>. A key never asked for before spends the account's
/// <see cref="NewKeyBudget"/> (429 when it is spent), and an exchange that every caller has left is abandoned.
/// </summary>
internal sealed class WorkloadIdentityTokenProvider(
    WorkloadIdentityExchange exchange,
    TokenCache<AccessTokenKey> accessTokens,
    TokenCache<IdTokenKey> idTokens,
    NewKeyBudget newKeys,
    IOptions<TokenOptions> options,
    RefusalEvents events,
    ProxyMetrics metrics,
    TimeProvider time) : ITokenProvider
{
    public ValueTask<TokenOutcome> GetAccessTokenAsync(CallerIdentity caller, IReadOnlyList<string> scopes, CancellationToken cancellationToken) =>
        GetAsync(caller, accessTokens, AccessTokenKey.For(caller, scopes), ct => exchange.FetchAccessTokenAsync(caller, scopes, ct), cancellationToken);

    public ValueTask<TokenOutcome> GetIdTokenAsync(CallerIdentity caller, IdTokenRequest request, CancellationToken cancellationToken)
    {
        if (caller.GoogleServiceAccount is null)
        {
            // ID-5, in GKE's words.
            return ValueTask.FromResult<TokenOutcome>(new TokenOutcome.Refused(TokenRefusal.NoGoogleServiceAccount,
                $"Your Kubernetes service account ({caller}) is not annotated with a target Google service account, which is a requirement " +
                "for retrieving Identity Tokens using Workload Identity. Please add the iam.gke.io/gcp-service-account=[GSA_NAME]@[PROJECT_ID] " +
                "annotation to your Kubernetes service account."));
        }

        return GetAsync(caller, idTokens, IdTokenKey.For(caller, request), ct => exchange.FetchIdTokenAsync(caller, request, ct), cancellationToken);
    }

    /// <summary>Fetches the default-scope access token of a pod's identity before it asks.</summary>
    public Task PrefetchAsync(CallerIdentity caller) =>
        accessTokens.PrefetchAsync(AccessTokenKey.For(caller, caller.Scopes), ct => exchange.FetchAccessTokenAsync(caller, caller.Scopes, ct));

    private async ValueTask<TokenOutcome> GetAsync<TKey>(CallerIdentity caller, TokenCache<TKey> cache, TKey key,
        Func<CancellationToken, Task<TokenOutcome>> fetch, CancellationToken cancellationToken)
        where TKey : notnull
    {
        // A held token is answered without the deadline's timer and linked cancellation sources (issue 11).
        if (cache.TryGetServable(key, fetch, out var held))
            return held;

        var account = WorkloadIdentityExchange.FairnessKey(caller);
        if (!cache.Contains(key) && !newKeys.TryTake(account, out var retryAfter))
        {
            metrics.TokenFetchRefused("account_new_key_limit");
            return new TokenOutcome.Refused(TokenRefusal.Throttled,
                $"Kubernetes service account {account} asked for more new scope sets or audiences than it may " +
                $"(Tokens:NewKeysPerAccountBurst {options.Value.NewKeysPerAccountBurst}, {options.Value.NewKeysPerAccountPerMinute} a minute); " +
                "tokens it already holds keep being served.", retryAfter);
        }

        var deadline = options.Value.UpstreamDeadline;
        using var budget = new CancellationTokenSource(deadline, time);
        using var waiting = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, budget.Token);
        TokenOutcome outcome;
        try
        {
            outcome = await cache.GetAsync(key, fetch, waiting.Token);
        }
        catch (OperationCanceledException) when (budget.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            outcome = UpstreamCall.TimedOut(deadline);
        }

        if (outcome is TokenOutcome.Refused { Reason: TokenRefusal.UpstreamRejected } refused && caller is { PodName: { } pod, PodUid: { } uid })
            events.Report(caller.Namespace, pod, uid, "MetadataTokenRefused", refused.Message);
        return outcome;
    }
}
