using MetadataProxy.Identity;
using MetadataProxy.Operations;
using Microsoft.Extensions.Options;

namespace MetadataProxy.Tokens;

/// <summary>
/// Kubernetes mode's tokens (decision 4): from the cache when there, else one exchange per key; a caller never waits
/// longer than <c>Tokens:UpstreamDeadline</c>, and an exchange that outlives its caller still fills the cache.
/// </summary>
internal sealed class WorkloadIdentityTokenProvider(
    WorkloadIdentityExchange exchange,
    TokenCache<AccessTokenKey> accessTokens,
    TokenCache<IdTokenKey> idTokens,
    IOptions<TokenOptions> options,
    RefusalEvents events,
    TimeProvider time) : ITokenProvider
{
    public ValueTask<TokenOutcome> GetAccessTokenAsync(CallerIdentity caller, IReadOnlyList<string> scopes, CancellationToken cancellationToken) =>
        WithinDeadlineAsync(caller, accessTokens.GetAsync(AccessTokenKey.For(caller, scopes), ct => exchange.FetchAccessTokenAsync(caller, scopes, ct), cancellationToken), cancellationToken);

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

        return WithinDeadlineAsync(caller, idTokens.GetAsync(IdTokenKey.For(caller, request), ct => exchange.FetchIdTokenAsync(caller, request, ct), cancellationToken), cancellationToken);
    }

    /// <summary>Fetches the default-scope access token of a pod's identity before it asks.</summary>
    public Task PrefetchAsync(CallerIdentity caller) =>
        accessTokens.PrefetchAsync(AccessTokenKey.For(caller, caller.Scopes), ct => exchange.FetchAccessTokenAsync(caller, caller.Scopes, ct));

    private async ValueTask<TokenOutcome> WithinDeadlineAsync(CallerIdentity caller, Task<TokenOutcome> pending, CancellationToken cancellationToken)
    {
        var outcome = await UpstreamCall.WithinAsync(pending, options.Value.UpstreamDeadline, time, cancellationToken);
        if (outcome is TokenOutcome.Refused { Reason: TokenRefusal.UpstreamRejected } refused && caller is { PodName: { } pod, PodUid: { } uid })
            events.Report(caller.Namespace, pod, uid, "MetadataTokenRefused", refused.Message);
        return outcome;
    }
}
