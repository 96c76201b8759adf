using Google.Apis.Auth.OAuth2;
using MetadataProxy.Identity;
using MetadataProxy.Pods;

namespace MetadataProxy.Tokens;

/// <summary>
/// The subject token of an STS exchange: a fresh KSA token minted on every call (Google rejects stale ones), bound
/// to a live pod that runs as the account — the pod that asked first while it lives, else another live one — or, for the
/// node identity, to what that identity names.
/// </summary>
internal sealed class PodSubjectTokenProvider(CallerIdentity identity, KsaTokenSource tokens, PodIndex pods) : ProgrammaticExternalAccountCredential.ISubjectTokenProvider
{
    public async Task<string> GetSubjectTokenAsync(ProgrammaticExternalAccountCredential credential, CancellationToken cancellationToken)
    {
        var bound = identity;
        if (!identity.IsNode) // the node identity is bound to the server's own pod or the Node, never to a pod of the index
        {
            var pod = BoundPod() ?? throw new KsaSubjectTokenException(false,
                $"No live pod on this node runs as Kubernetes service account {identity} any more.");
            bound = identity with { PodName = pod.Name, PodUid = pod.Uid };
        }

        var token = await tokens.CreateAsync(bound, cancellationToken);
        return token switch
        {
            KsaToken.Issued issued => issued.Jwt,
            KsaToken.Refused refused => throw new KsaSubjectTokenException(false, refused.Reason),
            KsaToken.Unavailable unavailable => throw new KsaSubjectTokenException(true, unavailable.Reason),
            _ => throw new InvalidOperationException($"Unknown KSA token outcome {token.GetType().Name}."),
        };
    }

    private PodRecord? BoundPod()
    {
        if (identity.PodUid is { } uid && pods.ByUid(uid) is { IsLive: true } first)
            return first;
        return pods.All.FirstOrDefault(p => p.IsLive && p.Namespace == identity.Namespace && p.ServiceAccount == identity.KubernetesServiceAccount);
    }
}
