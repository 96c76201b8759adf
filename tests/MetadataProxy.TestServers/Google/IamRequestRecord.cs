namespace MetadataProxy.TestServers.Google;

/// <summary>One request that reached <c>/v1/projects/-/serviceAccounts/{email}:{verb}</c>, and how it was answered.</summary>
public sealed record IamRequestRecord
{
    public required DateTimeOffset ReceivedAt { get; init; }

    /// <summary>When the answer (or the 499 of an abandoned call) was decided, on the server's clock: with <see cref="ReceivedAt"/>, how long Google took, to set against when the caller's fetch completed.</summary>
    public DateTimeOffset AnsweredAt { get; init; }

    public required IamMethod Method { get; init; }

    public required string ServiceAccountEmail { get; init; }

    /// <summary>The raw JSON body as sent.</summary>
    public required string Body { get; init; }

    /// <summary>Request headers (multi-valued ones joined with ", ").</summary>
    public required IReadOnlyDictionary<string, string> Headers { get; init; }

    public IReadOnlyList<string> Delegates { get; init; } = [];

    public IReadOnlyList<string> Scopes { get; init; } = [];

    /// <summary>The <c>lifetime</c> field as sent, e.g. "3600s".</summary>
    public string? Lifetime { get; init; }

    public string? Audience { get; init; }

    public bool? IncludeEmail { get; init; }

    /// <summary>The <c>x-goog-user-project</c> header (quota project).</summary>
    public string? UserProject => Headers.TryGetValue("x-goog-user-project", out var value) ? value : null;

    /// <summary>The IAM member of a valid bearer token, null if the bearer was missing or unknown.</summary>
    public string? BearerPrincipal { get; init; }

    /// <summary>HTTP status answered; 499 when the caller went away during injected latency.</summary>
    public int Status { get; init; }

    /// <summary>Google's message as sent.</summary>
    public string? ErrorMessage { get; init; }

    /// <summary>Why, when Google's message is generic ("Request contains an invalid argument.").</summary>
    public string? Diagnostic { get; init; }
}
