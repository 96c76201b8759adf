namespace MetadataProxy.TestServers.Google;

/// <summary>One request that reached <c>POST /v1/token</c>, and how it was answered.</summary>
public sealed record StsRequestRecord
{
    public required DateTimeOffset ReceivedAt { get; init; }

    /// <summary>Every form field as sent (the subject token included).</summary>
    public required IReadOnlyDictionary<string, string> Form { get; init; }

    /// <summary>Request headers (multi-valued ones joined with ", ").</summary>
    public required IReadOnlyDictionary<string, string> Headers { get; init; }

    public string? GrantType => Field("grant_type");

    public string? RequestedTokenType => Field("requested_token_type");

    public string? SubjectTokenType => Field("subject_token_type");

    public string? SubjectToken => Field("subject_token");

    public string? Audience => Field("audience");

    public IReadOnlyList<string> Scopes => Field("scope")?.Split(' ', StringSplitOptions.RemoveEmptyEntries) ?? [];

    /// <summary>The raw <c>options</c> JSON, e.g. <c>{"userProject":"…"}</c>.</summary>
    public string? Options => Field("options");

    public string? UserProject { get; init; }

    /// <summary>The subject token's <c>sub</c>, when its signature checked out.</summary>
    public string? Subject { get; init; }

    /// <summary>HTTP status answered; 499 when the caller went away during injected latency.</summary>
    public int Status { get; init; }

    public string? Error { get; init; }

    public string? ErrorDescription { get; init; }

    /// <summary>Why, when Google's own message is vaguer than a test needs (e.g. a JWKS fetch failure).</summary>
    public string? Diagnostic { get; init; }

    public string? IssuedAccessToken { get; init; }

    private string? Field(string name) => Form.TryGetValue(name, out var value) ? value : null;
}
