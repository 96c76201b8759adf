namespace MetadataProxy.TestServers.Google;

/// <summary>
/// Who an access token issued by the test server belongs to. <c>Principal</c> is in IAM member form
/// (<c>principal://…/subject/SUB</c>, <c>serviceAccount:EMAIL</c>, or as given); <c>QuotaProject</c> is the STS
/// <c>options.userProject</c> or the <c>x-goog-user-project</c> header seen when the token was issued.
/// </summary>
public sealed record TokenInfo(
    TokenKind Kind,
    string Principal,
    string? ServiceAccountEmail,
    IReadOnlyList<string> Scopes,
    DateTimeOffset IssuedAt,
    DateTimeOffset ExpiresAt,
    string? QuotaProject);
