namespace MetadataProxy.TestServers.Google;

/// <summary>
/// Sends requests for Google's STS, IAM Credentials and certs hosts to the test server instead. After the answer
/// arrives the request's original URI is put back: Google.Apis.Auth reads <c>response.RequestMessage.RequestUri</c>
/// and only parses IAM's <c>{"error":{…}}</c> body when that URI starts with <c>https://iamcredentials.</c>.
/// </summary>
public sealed class GoogleHostRedirectHandler(Uri target) : DelegatingHandler
{
    private static readonly string[] RedirectedHosts = ["iamcredentials.googleapis.com", "sts.googleapis.com", "www.googleapis.com"];

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var original = request.RequestUri;
        if (original is null || !RedirectedHosts.Contains(original.Host, StringComparer.OrdinalIgnoreCase))
        {
            return await base.SendAsync(request, cancellationToken);
        }

        request.RequestUri = new UriBuilder(original) { Scheme = target.Scheme, Host = target.Host, Port = target.Port }.Uri;
        try
        {
            return await base.SendAsync(request, cancellationToken);
        }
        finally
        {
            request.RequestUri = original;
        }
    }
}
