namespace MetadataProxy.Tokens;

/// <summary>An ID-token request: <c>format=full</c> and <c>licenses</c> are accepted (ID-4) but add no claims under Workload Identity.</summary>
internal sealed record IdTokenRequest(string Audience, bool FullFormat);
