using System.Net;
using Google.Apis.Auth.OAuth2.Responses;

namespace MetadataProxy.Tokens;

/// <summary>
/// Runs one call to Google under the upstream deadline and turns its failures into refusals: Google's
/// 4xx answers are rejections (403, not retried), everything else is unavailability (503, retried).
/// </summary>
internal static class UpstreamCall
{
    public static async Task<TokenOutcome> RunAsync(TimeSpan deadline, TimeProvider time, Func<CancellationToken, Task<TokenOutcome>> call, CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(deadline, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            return await call(linked.Token);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return TimedOut(deadline);
        }
        catch (TokenResponseException e)
        {
            return Failed(e.StatusCode, Describe(e));
        }
        catch (IamCredentialsException e)
        {
            return Failed(e.Status, e.Message);
        }
        catch (HttpRequestException e)
        {
            return new TokenOutcome.Refused(TokenRefusal.UpstreamUnavailable, $"Google could not be reached: {e.Message}");
        }
    }

    /// <summary>Waits for a fetch that may be shared with other callers, at most <paramref name="deadline"/>; the fetch itself goes on.</summary>
    public static async Task<TokenOutcome> WithinAsync(Task<TokenOutcome> pending, TimeSpan deadline, TimeProvider time, CancellationToken cancellationToken)
    {
        try
        {
            return await pending.WaitAsync(deadline, time, cancellationToken);
        }
        catch (TimeoutException)
        {
            return TimedOut(deadline);
        }
    }

    public static TokenOutcome.Refused TimedOut(TimeSpan deadline) =>
        new(TokenRefusal.UpstreamUnavailable, $"Google did not answer within {deadline.TotalSeconds:0.#} s; retry shortly.");

    private static TokenOutcome.Refused Failed(HttpStatusCode? status, string description) =>
        status is { } code && (int)code is >= 400 and < 500 && code != HttpStatusCode.TooManyRequests && code != HttpStatusCode.RequestTimeout
            ? new(TokenRefusal.UpstreamRejected, $"Google refused the token request: {description}")
            : new(TokenRefusal.UpstreamUnavailable, $"Google failed the token request: {description}");

    private static string Describe(TokenResponseException e)
    {
        var error = e.Error;
        var text = string.Join(": ", new[] { error?.Error, error?.ErrorDescription }.Where(s => !string.IsNullOrEmpty(s)));
        return text.Length > 0 ? text : e.Message;
    }
}
