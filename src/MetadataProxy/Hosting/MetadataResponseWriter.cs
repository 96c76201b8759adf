using System.Globalization;
using System.Net;
using System.Text;
using MetadataProxy.Metadata;

namespace MetadataProxy.Hosting;

/// <summary>Writes a <see cref="MetadataResult"/>: exact content types, Content-Length and never chunked (T-5).</summary>
internal static class MetadataResponseWriter
{
    private const string ErrorContentType = "text/html; charset=UTF-8";

    public static Task WriteAsync(HttpContext context, MetadataResult result)
    {
        var response = context.Response;
        switch (result)
        {
            case MetadataResult.Content content:
                response.StatusCode = StatusCodes.Status200OK;
                response.Headers.ETag = content.ETag;
                return WriteBodyAsync(context, content.ContentType, content.Body);
            case MetadataResult.Redirect redirect:
                response.StatusCode = StatusCodes.Status301MovedPermanently;
                response.Headers.Location = redirect.Location;
                return WriteBodyAsync(context, ContentTypes.Text, Encoding.UTF8.GetBytes(redirect.Location + "\n"));
            case MetadataResult.Failure failure:
                WriteFailureStatus(response, failure);
                if (failure.Reason == FailureReason.MethodNotAllowed)
                    response.Headers.Allow = "GET, HEAD";
                return WriteBodyAsync(context, ErrorContentType, Encoding.UTF8.GetBytes(WebUtility.HtmlEncode(failure.Message) + "\n"));
            default:
                throw new ArgumentOutOfRangeException(nameof(result), result, "Unknown metadata result.");
        }
    }

    /// <summary>A failure's status and, when it is retryable, its Retry-After in whole seconds (at least 1).</summary>
    public static void WriteFailureStatus(HttpResponse response, MetadataResult.Failure failure)
    {
        response.StatusCode = StatusCodeOf(failure.Reason);
        if (failure.RetryAfter is { } retry)
            response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retry.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
    }

    public static int StatusCodeOf(FailureReason reason) => reason switch
    {
        FailureReason.BadRequest => StatusCodes.Status400BadRequest,
        FailureReason.TooManyRequests => StatusCodes.Status429TooManyRequests,
        // AT-5: GKE's metadata server answers concealed attributes 404, which Go reads as "not defined".
        FailureReason.NotFound or FailureReason.NoGoogleServiceAccount or FailureReason.Concealed => StatusCodes.Status404NotFound,
        FailureReason.MethodNotAllowed => StatusCodes.Status405MethodNotAllowed,
        FailureReason.MissingMetadataFlavor or FailureReason.Forwarded or FailureReason.LegacyEndpoint
            or FailureReason.HostNetworkDenied or FailureReason.InvalidAnnotation or FailureReason.ServiceAccountMissing
            or FailureReason.UpstreamRejected or FailureReason.SubjectTokenRejected => StatusCodes.Status403Forbidden,
        FailureReason.CallerUnknown or FailureReason.CallerAmbiguous or FailureReason.ServiceAccountUnavailable or FailureReason.UpstreamUnavailable
            or FailureReason.CredentialsNotConfigured => StatusCodes.Status503ServiceUnavailable,
        _ => throw new ArgumentOutOfRangeException(nameof(reason), reason, "Unknown failure reason."),
    };

    private static Task WriteBodyAsync(HttpContext context, string contentType, byte[] body)
    {
        context.Response.ContentType = contentType;
        context.Response.ContentLength = body.Length;
        return HttpMethods.IsHead(context.Request.Method) ? Task.CompletedTask : context.Response.Body.WriteAsync(body, context.RequestAborted).AsTask();
    }
}
