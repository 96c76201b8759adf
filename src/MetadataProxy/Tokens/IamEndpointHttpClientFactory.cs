using Google.Apis.Http;

namespace MetadataProxy.Tokens;

/// <summary>
/// The HTTP stack of Google calls (STS and IAM Credentials): Google.Apis.Auth builds a client per credential chain;
/// given a shared handler, each of them borrows it, so all accounts share one connection pool. Google.Apis.Auth
/// derives the IAM Credentials host from the universe domain; those calls go to
/// <c>WorkloadIdentity:IamCredentialsEndpoint</c> instead (a private endpoint, or a test server), and nothing else.
/// </summary>
internal sealed class IamEndpointHttpClientFactory(Uri iamCredentialsEndpoint, HttpMessageHandler? shared = null) : HttpClientFactory
{
    public const string GoogleHost = "iamcredentials.googleapis.com";

    protected override HttpMessageHandler CreateHandler(CreateHttpClientArgs args) =>
        new RewriteHandler(iamCredentialsEndpoint) { InnerHandler = shared is null ? base.CreateHandler(args) : new Borrowed(shared) };

    /// <summary>The shared handler, lent: a client that is disposed with its chain must not dispose it.</summary>
    private sealed class Borrowed(HttpMessageHandler shared) : HttpMessageHandler
    {
        private readonly HttpMessageInvoker _invoker = new(shared, disposeHandler: false);

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            _invoker.SendAsync(request, cancellationToken);
    }

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
