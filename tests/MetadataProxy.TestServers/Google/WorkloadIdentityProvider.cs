namespace MetadataProxy.TestServers.Google;

/// <summary>An OIDC provider of a Workload Identity pool, as STS sees it.</summary>
internal sealed record WorkloadIdentityProvider(
    string ProjectNumber,
    string PoolId,
    string ProviderId,
    string Issuer,
    JwksSource Jwks,
    IReadOnlyList<string> AllowedAudiences)
{
    public string ResourceName =>
        $"//iam.googleapis.com/projects/{ProjectNumber}/locations/global/workloadIdentityPools/{PoolId}/providers/{ProviderId}";

    public string PoolPrincipalPrefix =>
        $"principal://iam.googleapis.com/projects/{ProjectNumber}/locations/global/workloadIdentityPools/{PoolId}/subject/";

    public static IReadOnlyList<string> DefaultAudiences(string resourceName) => [resourceName, "https:" + resourceName];

    public string PrincipalFor(string subject) => PoolPrincipalPrefix + subject;
}
