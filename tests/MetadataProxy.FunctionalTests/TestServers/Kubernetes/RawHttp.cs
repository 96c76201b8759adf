using System.Net.Http.Headers;
using MetadataProxy.TestServers.Kubernetes;

namespace MetadataProxy.FunctionalTests.TestServers.Kubernetes;

/// <summary>A plain HttpClient for what the KubernetesClient hides: the bytes on the wire.</summary>
internal static class RawHttp
{
    public static HttpClient Create(KubernetesTestServer server, bool authenticated = true)
    {
        var http = new HttpClient { BaseAddress = server.BaseAddress };
        if (authenticated)
        {
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", server.BearerToken);
        }

        return http;
    }
}
