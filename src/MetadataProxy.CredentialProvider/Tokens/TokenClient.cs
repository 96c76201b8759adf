using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using MetadataProxy.CredentialProvider.Cli;
using MetadataProxy.CredentialProvider.Json;

namespace MetadataProxy.CredentialProvider.Tokens;

/// <summary>Fetches one token from a <see cref="TokenEndpoint"/> and turns every way that can go wrong into a one-line <see cref="Failure"/>.</summary>
internal sealed class TokenClient(TokenEndpoint endpoint)
{
    private const int MaxAnswerBytes = 64 * 1024;

    public Task<Result<AccessToken>> GetAsync(string path, CancellationToken cancellationToken) =>
        SendAsync(() => new HttpRequestMessage(HttpMethod.Get, path), secret: null, cancellationToken);

    /// <summary>POSTs the pod's KSA token; <paramref name="body"/>'s token is redacted from anything the server says back.</summary>
    public Task<Result<AccessToken>> PostAsync(string path, PodTokenRequest body, CancellationToken cancellationToken) =>
        SendAsync(
            () => new HttpRequestMessage(HttpMethod.Post, path)
            {
                Content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(body, ProviderJsonContext.Default.PodTokenRequest))
                {
                    Headers = { ContentType = new MediaTypeHeaderValue("application/json") },
                },
            },
            body.ServiceAccountToken,
            cancellationToken);

    private async Task<Result<AccessToken>> SendAsync(Func<HttpRequestMessage> createRequest, string? secret, CancellationToken cancellationToken)
    {
        if (endpoint.SocketPath is { } socketPath && !File.Exists(socketPath))
            return Failure.Refused($"no MetadataProxy node socket at {socketPath} (is the server running on this node with Listen:NodeSocket?)");

        using var client = endpoint.CreateClient();
        using var request = createRequest();
        request.Headers.Add("Metadata-Flavor", "Google");
        try
        {
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            var body = await ReadCappedAsync(response.Content, cancellationToken);
            return Interpret(response, body, secret);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return Failure.Refused($"no answer from {endpoint.Description} in time");
        }
        catch (HttpRequestException e)
        {
            var reason = e.InnerException is SocketException socket ? socket.Message : e.Message;
            return Failure.Refused($"cannot reach {endpoint.Description}: {reason}");
        }
        catch (IOException e)
        {
            return Failure.Refused($"the connection to {endpoint.Description} failed: {e.Message}");
        }
    }

    private Result<AccessToken> Interpret(HttpResponseMessage response, byte[] body, string? secret)
    {
        var status = $"{(int)response.StatusCode} {response.ReasonPhrase}".TrimEnd();
        if (!response.Headers.TryGetValues("Metadata-Flavor", out var flavor) || !flavor.Contains("Google"))
            return Failure.Refused($"{endpoint.Description} answered {status} without Metadata-Flavor: Google, so it is no metadata server");

        if (response.StatusCode != HttpStatusCode.OK)
        {
            var reason = FirstLine(Encoding.UTF8.GetString(body));
            if (secret is { Length: > 0 })
                reason = reason.Replace(secret, "[redacted]", StringComparison.Ordinal);
            return Failure.Refused($"{endpoint.Description} refused ({status}): {(reason.Length == 0 ? "no reason given" : reason)}");
        }

        TokenAnswer? answer;
        try
        {
            answer = JsonSerializer.Deserialize(body, ProviderJsonContext.Default.TokenAnswer);
        }
        catch (JsonException)
        {
            answer = null;
        }

        if (answer is not { AccessToken.Length: > 0, ExpiresIn: >= 0 })
            return Failure.Refused($"{endpoint.Description} answered 200 without a token (expected access_token and expires_in)");
        return Result<AccessToken>.Success(new AccessToken(answer.AccessToken, answer.ExpiresIn.Value));
    }

    private static string FirstLine(string text)
    {
        var trimmed = text.Trim();
        var newline = trimmed.IndexOfAny(['\r', '\n']);
        return newline < 0 ? trimmed : trimmed[..newline];
    }

    /// <summary>Reads at most 64 KiB: a token answer is ~1 KiB and a reason one line; anything more is not worth reading.</summary>
    private static async Task<byte[]> ReadCappedAsync(HttpContent content, CancellationToken cancellationToken)
    {
        await using var stream = await content.ReadAsStreamAsync(cancellationToken);
        var buffer = new byte[MaxAnswerBytes];
        var length = 0;
        int read;
        while (length < buffer.Length && (read = await stream.ReadAsync(buffer.AsMemory(length), cancellationToken)) > 0)
            length += read;
        return buffer[..length];
    }
}
