using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Google.Apis.Auth.OAuth2;
using Google.Apis.Http;

namespace MetadataProxy.Tokens;

/// <summary>
/// IAM Credentials' <c>generateAccessToken</c> and <c>generateIdToken</c>, sent on Google.Apis.Auth's HTTP stack with a
/// federated credential as the caller. Google.Apis.Auth's <see cref="ImpersonatedCredential"/> copies its source for
/// every chain (it rescopes it), so each scope set of one account made its own STS exchange; here every final token of
/// an account is asked for with the one federated credential of that account, and its token is exchanged once and
/// reused until Google.Apis.Auth refreshes it. The credential adds the bearer token (and the quota project), and
/// refreshes it on a 401; this client only writes the request and reads the answer.
/// </summary>
internal sealed class IamCredentialsClient(ConfigurableHttpClient http)
{
    private const string BaseUri = "https://" + IamEndpointHttpClientFactory.GoogleHost + "/v1/projects/-/serviceAccounts/";

    /// <summary>The lifetime asked for, as Google.Apis.Auth's own impersonation asks: one hour, Google's default ceiling.</summary>
    private const string Lifetime = "3600s";

    /// <summary>A client that sends as <paramref name="caller"/> over <paramref name="factory"/>'s stack.</summary>
    public static IamCredentialsClient For(GoogleCredential caller, Google.Apis.Http.IHttpClientFactory factory) =>
        new(factory.CreateHttpClient(new CreateHttpClientArgs { Initializers = { caller } }));

    public async Task<TokenOutcome> GenerateAccessTokenAsync(string serviceAccount, IReadOnlyList<string> scopes, CancellationToken cancellationToken)
    {
        using var body = await SendAsync(serviceAccount, "generateAccessToken", writer =>
        {
            writer.WriteStartArray("delegates");
            writer.WriteEndArray();
            writer.WriteStartArray("scope");
            foreach (var scope in scopes)
                writer.WriteStringValue(scope);
            writer.WriteEndArray();
            writer.WriteString("lifetime", Lifetime);
        }, cancellationToken);
        return IamAnswer.AccessToken(body.RootElement);
    }

    public async Task<TokenOutcome> GenerateIdTokenAsync(string serviceAccount, string audience, CancellationToken cancellationToken)
    {
        using var body = await SendAsync(serviceAccount, "generateIdToken", writer =>
        {
            writer.WriteStartArray("delegates");
            writer.WriteEndArray();
            writer.WriteString("audience", audience);
            writer.WriteBoolean("includeEmail", true);
        }, cancellationToken);
        return IamAnswer.IdToken(body.RootElement);
    }

    /// <summary>POSTs the JSON body; a non-2xx answer throws <see cref="IamCredentialsException"/> with Google's own message.</summary>
    private async Task<JsonDocument> SendAsync(string serviceAccount, string method, Action<Utf8JsonWriter> fields, CancellationToken cancellationToken)
    {
        // '@' may stand in a path segment (RFC 3986 pchar), and Google's own libraries send it so; anything else is escaped.
        var segment = Uri.EscapeDataString(serviceAccount).Replace("%40", "@", StringComparison.Ordinal);
        using var request = new HttpRequestMessage(HttpMethod.Post, $"{BaseUri}{segment}:{method}")
        {
            Content = new ByteArrayContent(Json(fields)) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } },
        };
        using var response = await http.SendAsync(request, cancellationToken);
        var content = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        if (!response.IsSuccessStatusCode)
            throw new IamCredentialsException(response.StatusCode, ErrorOf(content) ?? response.ReasonPhrase ?? "no error message");
        try
        {
            return JsonDocument.Parse(content);
        }
        catch (JsonException)
        {
            throw new IamCredentialsException(HttpStatusCode.BadGateway, $"IAM Credentials answered {method} with a body that is not JSON.");
        }
    }

    private static byte[] Json(Action<Utf8JsonWriter> fields)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            fields(writer);
            writer.WriteEndObject();
        }

        return buffer.ToArray();
    }

    /// <summary>Google's error envelope: <c>{"error":{"code":403,"message":"…","status":"PERMISSION_DENIED"}}</c>.</summary>
    private static string? ErrorOf(byte[] content)
    {
        try
        {
            using var document = JsonDocument.Parse(content);
            // A part that cannot be read is left out; with neither, the status line speaks (the status decides the refusal).
            return document.RootElement.ValueKind == JsonValueKind.Object
                   && document.RootElement.TryGetProperty("error", out var error)
                   && string.Join(": ", new[] { IamAnswer.Text(error, "status"), IamAnswer.Text(error, "message") }.OfType<string>()) is { Length: > 0 } text
                ? text
                : null;
        }
        catch (JsonException)
        {
            return content.Length == 0 ? null : Encoding.UTF8.GetString(content, 0, Math.Min(content.Length, 200));
        }
    }
}
