namespace MetadataProxy.Tokens;

/// <summary>The Google side of the mapping: the Workload Identity pool and the endpoints tokens come from.</summary>
internal sealed class WorkloadIdentityOptions
{
    public const string Section = "WorkloadIdentity";

    public string? ProjectId { get; set; }

    public string? ProjectNumber { get; set; }

    public string? PoolId { get; set; }

    public string? ProviderId { get; set; }

    public string? TokenAudience { get; set; }

    public Uri StsEndpoint { get; set; } = new("https://sts.googleapis.com/v1/token");

    public Uri IamCredentialsEndpoint { get; set; } = new("https://iamcredentials.googleapis.com/");

    /// <summary>The provider's full resource name, the audience Google STS expects.</summary>
    public string ProviderResourceName() =>
        $"//iam.googleapis.com/projects/{ProjectNumber}/locations/global/workloadIdentityPools/{PoolId}/providers/{ProviderId}";

    /// <summary>The audience of minted KSA tokens: configured, else the provider's default allowed audience.</summary>
    public string EffectiveTokenAudience() => string.IsNullOrEmpty(TokenAudience) ? "https:" + ProviderResourceName() : TokenAudience;
}
