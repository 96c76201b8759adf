using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using MetadataProxy.Benchmarks.Floors;
using MetadataProxy.TestServers.Google;

namespace MetadataProxy.Benchmarks.ColdPath;

/// <summary>
/// The floor of a cold token: the three upstream calls the server makes for it — TokenRequest bound to the pod, the
/// STS exchange, IAM generateAccessToken — made directly, one after the other, against the same test servers, by a
/// plain <see cref="HttpClient"/> over kept-alive connections (plain HTTP on loopback, as the server's). Nothing else:
/// no client library, no cache, no gate, no metadata request. What the server takes beyond this is its overhead.
/// It runs in a process of its own pinned to the server's core (<see cref="FloorProcess"/>), so that its calls cross
/// the same cores and wait for the same busy core as the server's.
/// </summary>
internal sealed class UpstreamFloor(Uri kubernetes, string bearerToken, Uri sts, Uri iamCredentials) : IDisposable
{
    private const string Scope = "https://www.googleapis.com/auth/cloud-platform";

    private readonly HttpClient _http = new(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false });
    private readonly string _audience = GoogleTestServer.ProviderResourceName(FloorsBenchmark.ProjectNumber, FloorsBenchmark.PoolId, "kubernetes");

    /// <summary>The three calls' elapsed milliseconds, each and together; throws unless each answered with a token.</summary>
    public async Task<(double TokenRequest, double Sts, double Iam, double Total)> RunAsync(ColdPod pod)
    {
        var started = Stopwatch.GetTimestamp();
        var ksaToken = await TokenRequestAsync(pod);
        var afterKubernetes = Stopwatch.GetTimestamp();
        var federated = await StsAsync(ksaToken);
        var afterSts = Stopwatch.GetTimestamp();
        await GenerateAccessTokenAsync(pod.GoogleServiceAccount, federated);
        var ended = Stopwatch.GetTimestamp();
        return (Ms(started, afterKubernetes), Ms(afterKubernetes, afterSts), Ms(afterSts, ended), Ms(started, ended));
    }

    public void Dispose() => _http.Dispose();

    private async Task<string> TokenRequestAsync(ColdPod pod)
    {
        var body = JsonSerializer.Serialize(new
        {
            apiVersion = "authentication.k8s.io/v1",
            kind = "TokenRequest",
            spec = new
            {
                audiences = new[] { "https:" + _audience },
                expirationSeconds = 3600,
                boundObjectRef = new { apiVersion = "v1", kind = "Pod", name = pod.Name, uid = pod.Uid },
            },
        });
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(kubernetes, $"api/v1/namespaces/{pod.Namespace}/serviceaccounts/{pod.Name}/token"))
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearerToken);
        using var document = await SendAsync(request, HttpStatusCode.Created);
        return document.RootElement.GetProperty("status").GetProperty("token").GetString()!;
    }

    private async Task<string> StsAsync(string subjectToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, sts)
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = "urn:ietf:params:oauth:grant-type:token-exchange",
                ["audience"] = _audience,
                ["scope"] = "https://www.googleapis.com/auth/iam",
                ["requested_token_type"] = "urn:ietf:params:oauth:token-type:access_token",
                ["subject_token_type"] = "urn:ietf:params:oauth:token-type:jwt",
                ["subject_token"] = subjectToken,
            }),
        };
        using var document = await SendAsync(request, HttpStatusCode.OK);
        return document.RootElement.GetProperty("access_token").GetString()!;
    }

    private async Task GenerateAccessTokenAsync(string serviceAccount, string federatedToken)
    {
        var body = JsonSerializer.Serialize(new { delegates = Array.Empty<string>(), scope = new[] { Scope }, lifetime = "3600s" });
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(iamCredentials, $"v1/projects/-/serviceAccounts/{serviceAccount}:generateAccessToken"))
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", federatedToken);
        using var document = await SendAsync(request, HttpStatusCode.OK);
        _ = document.RootElement.GetProperty("accessToken").GetString() ?? throw new InvalidOperationException("IAM answered without an accessToken");
    }

    private async Task<JsonDocument> SendAsync(HttpRequestMessage request, HttpStatusCode expected)
    {
        using var response = await _http.SendAsync(request);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        return response.StatusCode == expected
            ? JsonDocument.Parse(bytes)
            : throw new InvalidOperationException($"floor: {request.RequestUri} answered {(int)response.StatusCode}: {Encoding.UTF8.GetString(bytes)}");
    }

    private static double Ms(long from, long to) => Stopwatch.GetElapsedTime(from, to).TotalMilliseconds;
}
