namespace MetadataProxy.TestServers.Google;

/// <summary>What an exchange came to: an access token, or a rejection. Subject and user project when known.</summary>
internal sealed record StsOutcome(string? AccessToken, TokenInfo? Token, StsRejection? Rejection, string? Subject, string? UserProject);
