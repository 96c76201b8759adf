using MetadataProxy.Identity;
using MetadataProxy.Tokens;

namespace MetadataProxy.Metadata;

/// <summary>What <c>email</c> answers for a caller (SA-3).</summary>
internal static class ServiceAccountEmail
{
    /// <summary>
    /// The Google service account; without one (direct resource access) the pool <c>PROJECT.svc.id.goog</c>, or the
    /// caller's principal when its ServiceAccount asks for <c>iam.gke.io/return-principal-id-as-email</c>.
    /// </summary>
    public static string Of(CallerIdentity identity, string? projectId, WorkloadIdentityOptions workloadIdentity)
    {
        if (identity.GoogleServiceAccount is { } gsa)
            return gsa;
        if (identity.ReturnPrincipalIdAsEmail && !string.IsNullOrEmpty(workloadIdentity.PoolId))
            return $"principal://iam.googleapis.com/projects/{workloadIdentity.ProjectNumber}/locations/global/workloadIdentityPools/{workloadIdentity.PoolId}" +
                   $"/subject/system:serviceaccount:{identity.Namespace}:{identity.KubernetesServiceAccount}";
        return $"{projectId}.svc.id.goog";
    }
}
