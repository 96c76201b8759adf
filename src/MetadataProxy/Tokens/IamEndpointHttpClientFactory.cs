using Google.Apis.Http;

namespace MetadataProxy.Tokens;

/// <summary>
/// Google.Apis.Auth derives the IAM Credentials host from the universe domain; this factory sends those calls to
/// <c>WorkloadIdentity:IamCredentialsEndpoint</c> instead (a private endpoint, or a test server), and nothing else.
/// </summary>
internal sealed class IamEndpointHttpClientFactory(Uri iamCredentialsEndpoint) : HttpClientFactory
{
    public const string GoogleHost = "iamcredentials.googleapis.com";

    protected override HttpMessageHandler CreateHandler(CreateHttpClientArgs args) =>
        new RewriteHandler(iamCredentialsEndpoint) { InnerHandler = base.CreateHandler(args) };

    private sealed class RewriteHandler(Uri endpoint) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var original = request.RequestUri;
            if (original is null || !string.Equals(original.Host, GoogleHost, StringComparison.OrdinalIgnoreCase))
                return await base.SendAsync(request, cancellationToken);

            var basePath = endpoint.AbsolutePath.TrimEnd('/');
            request.RequestUri = new UriBuilder(endpoint.Scheme, endpoint.Host, endpoint.Port, basePath + original.AbsolutePath) { Query = original.Query.TrimStart('?') }.Uri;
            try
            {
                return await base.SendAsync(request, cancellationToken);
            }
            finally
            {
                // Google.Apis.Auth parses IAM's {"error":…} body only when the request URI is Google's own.
                request.RequestUri = original;
            }
        }
    }
}
