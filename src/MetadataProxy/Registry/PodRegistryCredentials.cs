using MetadataProxy.Identity;
using MetadataProxy.Metadata;
using MetadataProxy.Operations;
using MetadataProxy.Pods;
using MetadataProxy.ServiceAccounts;
using MetadataProxy.Tokens;
using Microsoft.Extensions.Options;

namespace MetadataProxy.Registry;

/// <summary>
/// The pulling pod's own registry credential (KEP-4412): the kubelet's token for the pod, vouched for by Kubernetes,
/// exchanged at STS and impersonating the account's Google service account when annotated — cached per identity and
/// scope like a pod's own tokens, in a cache of its own (each refresh uses the kubelet's latest token).
/// </summary>
internal sealed class PodRegistryCredentials(
    KubeletTokenReview review,
    PodIndex pods,
    WorkloadIdentityExchange exchange,
    TokenCachePolicy policy,
    IOptions<TokenOptions> tokenOptions,
    IOptions<IdentityOptions> identityOptions,
    RefusalEvents events,
    TimeProvider time)
{
    private readonly TokenCache<AccessTokenKey> _tokens = new(policy, time, capacity: 2_000, groupOf: k => $"{k.Namespace}/{k.ServiceAccount}", groupCapacity: 4);

    public async Task<MetadataResult> GetAsync(PodTokenRequest request, CancellationToken cancellationToken)
    {
        var reviewed = await review.ReviewAsync(request.ServiceAccountToken, cancellationToken);
        if (reviewed is TokenReviewOutcome.Rejected rejected)
            return new MetadataResult.Failure(FailureReason.SubjectTokenRejected, rejected.Reason);
        if (reviewed is TokenReviewOutcome.Unavailable unavailable)
            return new MetadataResult.Failure(FailureReason.ServiceAccountUnavailable, $"The pod's token could not be checked: {unavailable.Reason}; retry shortly.", TimeSpan.FromSeconds(1));
        var pod = (TokenReviewOutcome.Reviewed)reviewed;

        if (!await IsOnThisNodeAsync(pod.PodUid, cancellationToken))
            return new MetadataResult.Failure(FailureReason.SubjectTokenRejected, $"Pod {pod.Namespace}/{pod.PodName} is not a live pod on this node.");

        if (ServiceAccountAnnotations.Parse(request.Annotations.ToDictionary(), out var problem) is not { } annotations)
            return Refused(pod, new MetadataResult.Failure(FailureReason.InvalidAnnotation, $"Kubernetes service account {pod.Namespace}/{pod.ServiceAccount}: {problem}."));

        var identity = new CallerIdentity(pod.Namespace, pod.ServiceAccount, annotations.GoogleServiceAccount, CallerIdentity.DefaultScopes)
        {
            PodName = pod.PodName,
            PodUid = pod.PodUid,
            ServiceAccountUid = pod.ServiceAccountUid,
            QuotaProject = annotations.QuotaProject,
        };
        ForgetAccountsNoPodUses(identity);
        var key = AccessTokenKey.For(identity, identity.Scopes);
        var pending = _tokens.GetAsync(key, ct => exchange.ExchangeAsync(identity, identity.Scopes, request.ServiceAccountToken, ct), cancellationToken);
        var outcome = await UpstreamCall.WithinAsync(pending, tokenOptions.Value.UpstreamDeadline, time, cancellationToken);

        var answer = CredentialService.AccessTokenAnswer(outcome, time.GetUtcNow());
        return answer is MetadataResult.Failure { Reason: FailureReason.UpstreamRejected } refused ? Refused(pod, refused) : answer;
    }

    /// <summary>The kubelet pulls for pods bound to its node; the index sees them within moments, so a short wait settles it.</summary>
    private async Task<bool> IsOnThisNodeAsync(string podUid, CancellationToken cancellationToken)
    {
        var deadline = time.GetUtcNow() + identityOptions.Value.LookupWait;
        while (true)
        {
            var changed = pods.NextChange;
            if (pods.ByUid(podUid) is { } known)
                return !known.Terminating && known.Phase is not ("Succeeded" or "Failed");
            var remaining = deadline - time.GetUtcNow();
            if (remaining <= TimeSpan.Zero)
                return false;
            await ChangeWait.ForAsync(changed, remaining, time, cancellationToken);
        }
    }

    /// <summary>Tokens of accounts no pod on this node runs as any more are dropped (field lesson 10).</summary>
    private void ForgetAccountsNoPodUses(CallerIdentity current)
    {
        var used = pods.All.Where(p => p.IsLive || p.HostNetwork).Select(p => (p.Namespace, p.ServiceAccount)).ToHashSet();
        used.Add((current.Namespace, current.KubernetesServiceAccount));
        _tokens.Evict(k => used.Contains((k.Namespace, k.ServiceAccount)));
    }

    /// <summary>A refusal the pod's owner can fix shows on the pod (<c>kubectl describe pod</c>), as metadata refusals do.</summary>
    private MetadataResult.Failure Refused(TokenReviewOutcome.Reviewed pod, MetadataResult.Failure failure)
    {
        events.Report(pod.Namespace, pod.PodName, pod.PodUid, "MetadataRegistryCredentialsRefused", failure.Message);
        return failure;
    }
}
