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
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.RequestUri is { } uri && string.Equals(uri.Host, GoogleHost, StringComparison.OrdinalIgnoreCase))
            {
                var basePath = endpoint.AbsolutePath.TrimEnd('/');
                request.RequestUri = new UriBuilder(endpoint.Scheme, endpoint.Host, endpoint.Port, basePath + uri.AbsolutePath) { Query = uri.Query.TrimStart('?') }.Uri;
            }

            return base.SendAsync(request, cancellationToken);
        }
    }
}
