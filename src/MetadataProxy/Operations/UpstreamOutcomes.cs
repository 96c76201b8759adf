using System.Net;

namespace MetadataProxy.Operations;

/// <summary>The bounded label values of <c>metadata_proxy_upstream_calls_total</c>: which call, and how it ended.</summary>
internal static class UpstreamOutcomes
{
    public const string TokenRequest = "token_request";
    public const string Sts = "sts";
    public const string IamAccessToken = "iam_access_token";
    public const string IamIdToken = "iam_id_token";
    public const string GoogleOther = "google_other";

    /// <summary>
    /// A Google call by its path, whatever the host (Google's own, a private endpoint, or a test server):
    /// STS's <c>/v1/token</c>, IAM Credentials' <c>:generateAccessToken</c> and <c>:generateIdToken</c>.
    /// </summary>
    public static string GoogleCallOf(Uri? uri)
    {
        var path = uri?.AbsolutePath ?? "";
        if (path.EndsWith(":generateAccessToken", StringComparison.Ordinal))
            return IamAccessToken;
        if (path.EndsWith(":generateIdToken", StringComparison.Ordinal))
            return IamIdToken;
        return path.EndsWith("/v1/token", StringComparison.Ordinal) ? Sts : GoogleOther;
    }

    /// <summary><c>ok</c> for 2xx, else the status class (<c>3xx</c>, <c>4xx</c>, <c>5xx</c>).</summary>
    public static string OfStatus(HttpStatusCode status) => (int)status switch
    {
        >= 200 and < 300 => "ok",
        >= 300 and < 400 => "3xx",
        >= 400 and < 500 => "4xx",
        >= 500 and < 600 => "5xx",
        _ => "error",
    };

    /// <summary>A call that threw: cut off by its deadline, left by its caller, or failed on the wire.</summary>
    public static string OfException(Exception e, CancellationToken callerToken) => e switch
    {
        OperationCanceledException when callerToken.IsCancellationRequested => "cancelled",
        OperationCanceledException => "timeout",
        _ => "error",
    };
}
