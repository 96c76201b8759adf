
namespace MetadataProxy.TestServers.Kubernetes;

/// <summary>In front of every route: a server that is down resets the connection; an API request without the
/// bearer token gets the 401 Status; a throttling server answers 429 with Retry-After. OIDC discovery is public, as on clusters that grant
/// system:service-account-issuer-discovery to unauthenticated callers.</summary>
internal sealed class RequestGate(RequestDelegate next, Outage outage, ServerSettings settings, ServerCounters counters)
{
    public Task InvokeAsync(HttpContext context)
    {
        if (outage.IsDown)
        {
            context.Abort();
            return Task.CompletedTask;
        }

        var path = context.Request.Path;
        if (path.StartsWithSegments("/.well-known/openid-configuration", StringComparison.Ordinal) ||
            path.StartsWithSegments("/openid/v1/jwks", StringComparison.Ordinal))
        {
            return next(context);
        }

        if (settings.ThrottleRetryAfterSeconds is { } retryAfter)
        {
            counters.Throttled(watch: context.Request.Query["watch"] is ["true" or "1"]);
            context.Response.Headers.RetryAfter = retryAfter.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return KubeResults.WriteStatusAsync(context, KubeStatus.TooManyRequests(retryAfter));
        }

        var authorization = context.Request.Headers.Authorization.ToString();
        return string.Equals(authorization, "Bearer " + settings.BearerToken, StringComparison.Ordinal)
            ? next(context)
            : KubeResults.WriteStatusAsync(context, KubeStatus.Unauthorized());
    }
}
