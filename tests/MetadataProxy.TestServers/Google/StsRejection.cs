namespace MetadataProxy.TestServers.Google;

/// <summary>An OAuth 2.0 error answer of STS (always HTTP 400 there).</summary>
internal sealed record StsRejection(string Error, string Description, string? Diagnostic = null)
{
    public static StsRejection InvalidRequest(string description) => new("invalid_request", description);

    public static StsRejection InvalidGrant(string description, string? diagnostic = null) => new("invalid_grant", description, diagnostic);
}
