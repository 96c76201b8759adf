using MetadataProxy.Identity;
using MetadataProxy.ServiceAccounts;

namespace MetadataProxy.Pods;

internal static class CallerIdentities
{
    /// <summary>The identity of a pod whose ServiceAccount was read and whose annotations are valid.</summary>
    public static CallerIdentity For(PodRecord pod, ServiceAccountState.Found account, ServiceAccountAnnotations annotations) =>
        new(pod.Namespace, pod.ServiceAccount, annotations.GoogleServiceAccount, CallerIdentity.DefaultScopes)
        {
            PodName = pod.Name,
            PodUid = pod.Uid,
            ServiceAccountUid = account.Uid,
            QuotaProject = annotations.QuotaProject,
            ReturnPrincipalIdAsEmail = annotations.ReturnPrincipalIdAsEmail,
        };
}
