using Google.Apis.Http;

namespace MetadataProxy.Tokens;

/// <summary>
/// The HTTP stack of Google calls (STS and IAM Credentials): Google.Apis.Auth builds a client per credential chain;
/// given a shared handler, each of them borrows it, so all accounts share one connection pool. Google.Apis.Auth
/// derives the IAM Credentials host from the universe domain; those calls go to
/// <c>WorkloadIdentity:IamCredentialsEndpoint</c> instead (a private endpoint, or a test server), and nothing else.
/// Given a <paramref name="callDeadline"/>, no single call outlives it (see <see cref="Deadline"/>); given
/// <paramref name="stsEndpoint"/>, STS's answers are checked before the library keeps them (<see cref="StsAnswerCheck"/>).
/// </summary>
internal sealed class IamEndpointHttpClientFactory(
    Uri iamCredentialsEndpoint, HttpMessageHandler? shared = null, TimeSpan? callDeadline = null, TimeProvider? time = null, Uri? stsEndpoint = null)
    : HttpClientFactory
{
    public const string GoogleHost = "iamcredentials.googleapis.com";

    protected override HttpMessageHandler CreateHandler(CreateHttpClientArgs args)
    {
        var inner = shared is null ? base.CreateHandler(args) : new Borrowed(shared);
        if (stsEndpoint is not null)
            inner = new StsAnswerCheck(stsEndpoint, time ?? TimeProvider.System) { InnerHandler = inner };
        if (callDeadline is { } deadline)
            inner = new Deadline(deadline, time ?? TimeProvider.System) { InnerHandler = inner };
        return new RewriteHandler(iamCredentialsEndpoint) { InnerHandler = inner };
    }

    /// <summary>
    /// Ends a call to Google at the deadline whoever waits for it, as a failure rather than a cancellation. Google.Apis.Auth
    /// sends an account's federated-token exchange and every ID-token request inside a refresh of its own, shared by all
    /// callers and run under its own timeouts (12 s, then again for 1 and 5 minutes), never under a caller's token: a call
    /// sent while Google hung went on after Google was back, and every later caller of that refresh (a new pod's first ID
    /// token) joined it and timed out without anything being sent (issue 9). A cancellation would be retried by the
    /// library in the same refresh; a failure ends it, so the next caller sends afresh.
    /// </summary>
    private sealed class Deadline(TimeSpan deadline, TimeProvider time) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            using var timeout = new CancellationTokenSource(deadline, time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
            try
            {
                return await base.SendAsync(request, linked.Token);
            }
            catch (OperationCanceledException e) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                throw new HttpRequestException($"Google did not answer within {deadline.TotalSeconds:0.#} s.", e);
            }
        }
    }

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
