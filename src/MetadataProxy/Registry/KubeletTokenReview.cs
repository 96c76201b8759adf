using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using MetadataProxy.Kubernetes;
using MetadataProxy.Tokens;
using Microsoft.Extensions.Options;

namespace MetadataProxy.Registry;

/// <summary>
/// Asks the API server who a kubelet-minted token belongs to (TokenReview): it checks the signature, the audience, the
/// expiry and that the pod it is bound to still exists with that UID. Only then is the token exchanged at Google, and
/// only for a pod on this node.
/// </summary>
internal sealed class KubeletTokenReview(
    IKubernetes client,
    KubernetesCallLimiter limiter,
    IOptions<WorkloadIdentityOptions> workloadIdentity,
    IOptions<KubernetesOptions> kubernetes)
{
    private const string ServiceAccountPrefix = "system:serviceaccount:";
    private const string PodNameKey = "authentication.kubernetes.io/pod-name";
    private const string PodUidKey = "authentication.kubernetes.io/pod-uid";
    private const string NodeNameKey = "authentication.kubernetes.io/node-name";

    public async Task<TokenReviewOutcome> ReviewAsync(string token, CancellationToken cancellationToken)
    {
        var audience = workloadIdentity.Value.EffectiveTokenAudience();
        var review = new V1TokenReview
        {
            ApiVersion = "authentication.k8s.io/v1",
            Kind = "TokenReview",
            Spec = new V1TokenReviewSpec { Token = token, Audiences = [audience] },
        };
        V1TokenReview answer;
        try
        {
            using var slot = await limiter.EnterAsync(cancellationToken);
            answer = await client.AuthenticationV1.CreateTokenReviewAsync(review, cancellationToken: cancellationToken);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Forbidden)
        {
            return new TokenReviewOutcome.Unavailable("the server may not create TokenReviews (RBAC: authentication.k8s.io tokenreviews create)");
        }
        catch (Exception e) when (e is HttpOperationException or HttpRequestException or IOException
                                      || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return new TokenReviewOutcome.Unavailable($"the Kubernetes API did not review the token: {e.Message}");
        }

        var status = answer.Status;
        if (status?.Authenticated != true || status.User is not { } user)
            return new TokenReviewOutcome.Rejected($"Kubernetes did not accept the pod's service-account token: {status?.Error ?? "not authenticated"}.");
        // An audience-aware server echoes the audience it checked; one that does not may have checked another.
        if (status.Audiences is not { } audiences || !audiences.Contains(audience, StringComparer.Ordinal))
            return new TokenReviewOutcome.Rejected($"Kubernetes did not confirm the token's audience {audience}: set tokenAttributes.serviceAccountTokenAudience to it.");
        if (user.Username?.StartsWith(ServiceAccountPrefix, StringComparison.Ordinal) != true
            || user.Username[ServiceAccountPrefix.Length..].Split(':') is not [{ Length: > 0 } ns, { Length: > 0 } name])
            return new TokenReviewOutcome.Rejected($"The token belongs to {user.Username}, not to a Kubernetes service account.");

        var extra = user.Extra ?? new Dictionary<string, IList<string>>();
        if (Single(extra, PodNameKey) is not { } podName || Single(extra, PodUidKey) is not { } podUid)
            return new TokenReviewOutcome.Rejected($"The token of {ns}/{name} is not bound to a pod; the kubelet binds the tokens it hands to credential providers to the pulling pod.");
        var node = kubernetes.Value.NodeName;
        if (Single(extra, NodeNameKey) is { } tokenNode && tokenNode != node)
            return new TokenReviewOutcome.Rejected($"The token of pod {ns}/{podName} was minted for node {tokenNode}, not this node ({node}).");

        return new TokenReviewOutcome.Reviewed(ns, name, user.Uid, podName, podUid);
    }

    private static string? Single(IDictionary<string, IList<string>> extra, string key) =>
        extra.TryGetValue(key, out var values) && values is [{ Length: > 0 } value] ? value : null;
}
