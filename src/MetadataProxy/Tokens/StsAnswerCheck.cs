using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace MetadataProxy.Tokens;

/// <summary>
/// Looks at STS's token answers before Google.Apis.Auth does, which reads them leniently and keeps what it read: a
/// lone surrogate escape in <c>access_token</c> became U+FFFD, a number became its digits, and an <c>expires_in</c>
/// beyond what a date can hold made its own expiry arithmetic throw on every later use of the account's federated
/// credential, so an impersonating account stayed broken after STS was well again. Such an answer is handed on as
/// the failure it is (502 with an OAuth error naming the field), which the library refuses without keeping anything;
/// the upstream metrics still count the 200 that came over the wire.
/// </summary>
internal sealed class StsAnswerCheck(Uri stsEndpoint, TimeProvider time) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken);
        if (!response.IsSuccessStatusCode || request.RequestUri != stsEndpoint)
            return response;
        // Buffered by this read (under the call's deadline: this handler sits inside it), so the library reads it again.
        var content = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        if (Problem(content) is not { } problem)
            return response;

        response.Dispose();
        return new HttpResponseMessage(HttpStatusCode.BadGateway)
        {
            RequestMessage = request,
            Content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string>
            {
                ["error"] = "invalid_response",
                ["error_description"] = $"STS answered with an unreadable token: {problem}",
            }))
            { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } },
        };
    }

    /// <summary>What makes the answer unusable, or null (a body that is not a JSON object is left to the library, which refuses it).</summary>
    private string? Problem(byte[] content)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(content);
        }
        catch (JsonException)
        {
            return null;
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                return null;
            if (root.TryGetProperty("access_token", out var token))
            {
                if (JsonText.Problem(token, "access_token", out var text) is { } problem)
                    return problem;
                if (text.Length > 0 && !BearerText.IsSendable(text))
                    return "access_token has characters outside visible ASCII";
            }

            // The library adds expires_in (a number, or a string of one) to the time it received the answer, and later
            // subtracts its margins from that; a string that is no whole number it refuses by itself.
            if (!root.TryGetProperty("expires_in", out var expiresIn))
                return null;
            long seconds;
            if (expiresIn.ValueKind == JsonValueKind.Number)
                seconds = expiresIn.TryGetInt64(out var number) ? number : -1;
            else if (expiresIn.ValueKind != JsonValueKind.String
                     || !long.TryParse(expiresIn.GetRawText()[1..^1], NumberStyles.Integer, CultureInfo.InvariantCulture, out seconds))
                return null;
            return seconds < 0 || seconds > (DateTime.MaxValue - time.GetUtcNow().UtcDateTime).TotalSeconds
                ? $"expires_in {expiresIn.GetRawText()} is not a token lifetime"
                : null;
        }
    }
}
