using System.Net.Security;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace MetadataProxy.TestServers.Google;

/// <summary>
/// Fetches an issuer's JWKS over HTTP(S). Certificates are checked, except for loopback hosts: the test issuers
/// (the Kubernetes test server) use self-signed certificates on 127.0.0.1.
/// </summary>
internal sealed class JwksFetcher : IDisposable
{
    private readonly HttpClient _http;

    public JwksFetcher()
    {
        var handler = new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (request, _, _, errors) =>
                errors == SslPolicyErrors.None || request.RequestUri is { IsLoopback: true },
        };
        _http = new HttpClient(handler, disposeHandler: true) { Timeout = TimeSpan.FromSeconds(10) };
    }

    /// <returns>The JWKS, or null and the reason.</returns>
    public async Task<(JsonObject? Jwks, string? Error)> ResolveAsync(JwksSource source, string issuer, CancellationToken ct)
    {
        if (source.Uploaded is { } uploaded)
        {
            return (uploaded, null);
        }

        var jwksUri = source.JwksUri;
        if (jwksUri is null)
        {
            var discoveryUri = new Uri(issuer.TrimEnd('/') + "/.well-known/openid-configuration");
            var (discovery, discoveryError) = await GetJsonAsync(discoveryUri, ct);
            if (discovery is null)
            {
                return (null, discoveryError);
            }

            if ((string?)discovery["issuer"] != issuer)
            {
                return (null, $"discovery document at {discoveryUri} names issuer '{discovery["issuer"]}', expected '{issuer}'");
            }

            if (!Uri.TryCreate((string?)discovery["jwks_uri"], UriKind.Absolute, out jwksUri))
            {
                return (null, $"discovery document at {discoveryUri} has no absolute jwks_uri");
            }
        }

        return await GetJsonAsync(jwksUri, ct);
    }

    public void Dispose() => _http.Dispose();

    private async Task<(JsonObject? Json, string? Error)> GetJsonAsync(Uri uri, CancellationToken ct)
    {
        try
        {
            using var response = await _http.GetAsync(uri, ct);
            if (!response.IsSuccessStatusCode)
            {
                return (null, $"GET {uri} answered {(int)response.StatusCode}");
            }

            var json = JsonNode.Parse(await response.Content.ReadAsStringAsync(ct)) as JsonObject;
            return json is null ? (null, $"GET {uri} did not return a JSON object") : (json, null);
        }
        catch (Exception e) when (e is HttpRequestException or JsonException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            return (null, $"GET {uri} failed: {e.Message}");
        }
    }
}
