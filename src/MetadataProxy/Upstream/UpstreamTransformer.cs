using MetadataProxy.Hosting;
using Microsoft.Net.Http.Headers;
using Yarp.ReverseProxy.Forwarder;

namespace MetadataProxy.Upstream;

/// <summary>
/// One forwarded request: the normalised path and the known query parameters only, <c>Metadata-Flavor: Google</c>
/// and nothing of the caller's headers (no <c>X-Forwarded-*</c>, which the real server refuses, no cookies, no
/// credentials). The answer's status, ETag, Content-Type and body are the upstream's; its Metadata-Flavor and
/// Server replace the ones this server stamped.
/// </summary>
internal sealed class UpstreamTransformer(Uri target) : HttpTransformer
{
    public override ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
    {
        proxyRequest.RequestUri = target;
        proxyRequest.Headers.Clear();
        proxyRequest.Headers.TryAddWithoutValidation(MetadataHeaders.Flavor, MetadataHeaders.FlavorValue);
        proxyRequest.Content = null; // GET and HEAD only: no body goes upstream
        return ValueTask.CompletedTask;
    }

    public override ValueTask<bool> TransformResponseAsync(HttpContext httpContext, HttpResponseMessage? proxyResponse, CancellationToken cancellationToken)
    {
        if (proxyResponse is not null)
        {
            var headers = httpContext.Response.Headers;
            headers.Remove(MetadataHeaders.Flavor);
            headers.Remove(HeaderNames.Server);
            headers.Remove(HeaderNames.XXSSProtection);
            headers.Remove(HeaderNames.XFrameOptions);
        }

        return base.TransformResponseAsync(httpContext, proxyResponse, cancellationToken);
    }
}
