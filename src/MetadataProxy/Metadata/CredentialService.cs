using System.Runtime.CompilerServices;
using System.Text.Json;
using MetadataProxy.Tokens;

namespace MetadataProxy.Metadata;

/// <summary>Serves the <c>token</c> and <c>identity</c> leaves (TK-*, ID-*) from an <see cref="ITokenProvider"/>.</summary>
internal sealed class CredentialService(ITokenProvider tokens, TimeProvider time)
{
    private static readonly string[] TrueWords = ["true", "1", "yes", "y"];

    /// <summary>Audiences come from callers and become cache keys and Google calls: they are bounded.</summary>
    private const int MaxAudienceLength = 1024;

    public async Task<MetadataResult> GetAsync(CredentialLeaf leaf, MetadataQuery query, CancellationToken cancellationToken) =>
        leaf.Kind == CredentialKind.AccessToken
            ? await GetAccessTokenAsync(leaf, query, cancellationToken)
            : await GetIdTokenAsync(leaf, query, cancellationToken);

    private async Task<MetadataResult> GetAccessTokenAsync(CredentialLeaf leaf, MetadataQuery query, CancellationToken cancellationToken)
    {
        var enforce = (string?)query.Raw["enforce_scopes"];
        if (enforce is not null && !TrueWords.Contains(enforce, StringComparer.OrdinalIgnoreCase))
            return BadRequest($"enforce_scopes={enforce} is not supported: requested scopes are always honoured."); // TK-5

        // TK-4, G-16: scopes arrive raw or percent-encoded; the query parser has decoded them already.
        if (RequestedScopes.TryParse((string?)query.Raw["scopes"], out var requested) is { } invalid)
            return invalid;
        var scopes = requested.Count > 0 ? requested : leaf.Caller.Scopes;

        var outcome = await tokens.GetAccessTokenAsync(leaf.Caller, scopes, cancellationToken);
        return AccessTokenAnswer(outcome, time.GetUtcNow(), query.Alt ?? MetadataFormat.Json);
    }

    /// <summary>An access token as GCE answers it (TK-1, TK-2, TK-9); also the registry endpoints' answer.</summary>
    public static MetadataResult AccessTokenAnswer(TokenOutcome outcome, DateTimeOffset now, MetadataFormat alt = MetadataFormat.Json)
    {
        if (outcome is not TokenOutcome.AccessToken token)
            return OutcomeMapping.ToFailure(outcome);

        // TK-2: whole seconds that really remain.
        var expiresIn = (long)Math.Floor((token.ExpiresAt - now).TotalSeconds);
        if (expiresIn < TokenCachePolicy.MinimumServeTime.TotalSeconds)
            return new MetadataResult.Failure(FailureReason.UpstreamUnavailable, "The access token is about to expire and could not be refreshed; retry shortly.", TimeSpan.FromSeconds(1));

        if (alt == MetadataFormat.Text) // TK-9
            return MetadataRenderer.TextContent($"access_token {token.Value}\nexpires_in {expiresIn}\ntoken_type Bearer\n");

        // Rendered (and hashed) once per token and second, not per request: only expires_in changes (issue 11).
        var rendered = Rendered.GetOrCreateValue(token);
        if (rendered.Last is { } last && last.ExpiresIn == expiresIn)
            return last.Content;
        var content = RenderAccessToken(token, expiresIn);
        rendered.Last = new RenderedAnswer(expiresIn, content);
        return content;
    }

    private static readonly ConditionalWeakTable<TokenOutcome.AccessToken, RenderedToken> Rendered = new();

    private sealed record RenderedAnswer(long ExpiresIn, MetadataResult.Content Content);

    private sealed class RenderedToken
    {
        public volatile RenderedAnswer? Last;
    }

    private static MetadataResult.Content RenderAccessToken(TokenOutcome.AccessToken token, long expiresIn)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("access_token", token.Value);
            writer.WriteNumber("expires_in", expiresIn);
            writer.WriteString("token_type", "Bearer");
            writer.WriteEndObject();
        }

        return MetadataRenderer.JsonContent(buffer.ToArray());
    }

    private async Task<MetadataResult> GetIdTokenAsync(CredentialLeaf leaf, MetadataQuery query, CancellationToken cancellationToken)
    {
        var audience = (string?)query.Raw["audience"];
        if (string.IsNullOrEmpty(audience))
            return BadRequest("non-empty audience parameter required"); // ID-3
        if (audience.Length > MaxAudienceLength)
            return BadRequest($"The audience is longer than {MaxAudienceLength} characters.");

        var format = (string?)query.Raw["format"] ?? "standard";
        if (!format.Equals("standard", StringComparison.OrdinalIgnoreCase) && !format.Equals("full", StringComparison.OrdinalIgnoreCase))
            return BadRequest($"Invalid format value '{format}': use format=standard or format=full.");

        var licenses = (string?)query.Raw["licenses"];
        if (licenses is not null && !bool.TryParse(licenses, out _))
            return BadRequest($"Invalid licenses value '{licenses}': use licenses=TRUE or licenses=FALSE.");

        var request = new IdTokenRequest(audience, format.Equals("full", StringComparison.OrdinalIgnoreCase));
        var outcome = await tokens.GetIdTokenAsync(leaf.Caller, request, cancellationToken);
        return outcome is TokenOutcome.IdToken id
            ? MetadataRenderer.TextContent(id.Jwt) // ID-1: the bare JWS, not JSON.
            : OutcomeMapping.ToFailure(outcome);
    }

    private static MetadataResult.Failure BadRequest(string message) => new(FailureReason.BadRequest, message);
}
