using System.Diagnostics;
using System.Net;
using MetadataProxy.Metadata;
using MetadataProxy.Operations;
using MetadataProxy.Upstream;

namespace MetadataProxy.Hosting;

/// <summary>The metadata listener's whole pipeline: stamp headers, guard, route, answer.</summary>
internal sealed partial class MetadataEndpoint(
    MetadataService metadata,
    MetadataTreeSource trees,
    ProxyMetrics metrics,
    UpstreamPassthrough upstream,
    TimeProvider time,
    ILogger<MetadataEndpoint> logger)
{
    /// <summary>
    /// G-21: every request that is not a wait_for_change is answered within this, whatever it waits on (the pod
    /// index, the API server, Google) — inside Python's and gcloud's 3 s per attempt.
    /// </summary>
    public static readonly TimeSpan RequestBudget = TimeSpan.FromSeconds(2.8);

    // G-6, G-7, D-1: answers that never change, rendered once.
    private static readonly MetadataResult.Content RootListing = MetadataRenderer.Listing("computeMetadata/");
    private static readonly MetadataResult.Content VersionListing = MetadataRenderer.Listing("v1/");

    public async Task InvokeAsync(HttpContext context)
    {
        var started = Stopwatch.GetTimestamp();
        var caller = CallerAddress.Of(context);
        StampHeaders(context.Response.Headers);
        MetadataResult result;
        // A wait_for_change has no budget (it ends with its timeout_sec or its caller): only the caller's token.
        using var budget = MetadataQuery.IsTrue(context.Request.Query["wait_for_change"]) ? null : new RequestDeadline(RequestBudget, time, context.RequestAborted);
        var cancellationToken = budget?.Token ?? context.RequestAborted;
        try
        {
            result = RequestGuard.Check(context.Request, out var path) ?? await RouteAsync(context, path, caller, cancellationToken);
            // Issue 12: what this server does not serve may be the VM's own metadata server's to answer (streamed there).
            if (upstream.Enabled)
            {
                if (await upstream.ApplyAsync(context, path, result, cancellationToken) is not { } instead)
                    return;
                result = instead;
            }
        }
        catch (OperationCanceledException) when (budget?.Expired(context.RequestAborted) == true)
        {
            // What was being fetched keeps going and fills its cache; this caller gets a retryable answer in time.
            result = new MetadataResult.Failure(FailureReason.UpstreamUnavailable,
                $"The answer took longer than {RequestBudget.TotalSeconds:0.0} s; retry shortly.", TimeSpan.FromSeconds(1));
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            metrics.RequestAborted();
            return; // The client went away (a long wait_for_change, usually); nobody is left to answer.
        }
        catch (Exception e) when (e is not OutOfMemoryException && !context.Response.HasStarted)
        {
            // A bug, not an expected outcome: logged once, here, and answered as GCE does, with the header clients check.
            Log.Failed(logger, e);
            context.Response.StatusCode = StatusCodes.Status500InternalServerError;
            context.Response.ContentType = "text/html; charset=UTF-8";
            await context.Response.WriteAsync("Internal error; retry shortly.\n", context.RequestAborted);
            return;
        }

        metrics.RequestCompleted(result, Stopwatch.GetElapsedTime(started));
        if (result is MetadataResult.Failure failure)
        {
            // What a caller can provoke at will (bad requests, the guard's refusals) is not worth a line each.
            if (failure.Reason is FailureReason.NotFound or FailureReason.BadRequest or FailureReason.MethodNotAllowed or FailureReason.Forwarded
                or FailureReason.MissingMetadataFlavor or FailureReason.LegacyEndpoint or FailureReason.Concealed)
                Log.RefusedRequest(logger, failure.Reason, caller, failure.Message);
            else
                Log.RefusedIdentity(logger, failure.Reason, caller, failure.Message);
        }
        await MetadataResponseWriter.WriteAsync(context, result);
    }

    private async Task<MetadataResult> RouteAsync(HttpContext context, MetadataPath path, IPAddress caller, CancellationToken cancellationToken)
    {
        var segments = path.Segments;
        switch (segments)
        {
            case []:
                return RootListing; // G-6, G-7
            case ["computeMetadata"]:
                return path.TrailingSlash
                    ? VersionListing // D-1
                    : new MetadataResult.Redirect("/computeMetadata/" + context.Request.QueryString);
            case ["computeMetadata", "v1", ..]:
                var request = new MetadataRequest(segments.Skip(2).ToArray(), path.TrailingSlash, caller, context.Request.Query, context.Request.QueryString.Value ?? "",
                    context.IsNodeSocketConnection());
                return await metadata.GetAsync(request, cancellationToken);
            case [DatapathCanary.Segment, var nonce] when !path.TrailingSlash:
                return DatapathCanary.Answer(nonce, caller); // before any caller resolution: it carries no identity
            default:
                return MetadataResult.NotFound(context.Request.Path.Value ?? "/");
        }
    }

    private void StampHeaders(IHeaderDictionary headers)
    {
        // G-8: exactly one Metadata-Flavor; G-9: errors carry it too; G-10: the rest of GCE's header set.
        headers[MetadataHeaders.Flavor] = MetadataHeaders.FlavorValue;
        headers.Server = trees.Options.ServerHeader;
        headers.XXSSProtection = "0";
        headers.XFrameOptions = "SAMEORIGIN";
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Error, Message = "Request failed unexpectedly")]
        public static partial void Failed(ILogger logger, Exception exception);

        [LoggerMessage(Level = LogLevel.Debug, Message = "Refused {Reason} for {RemoteAddress}: {Detail}")]
        public static partial void RefusedRequest(ILogger logger, FailureReason reason, IPAddress remoteAddress, string detail);

        [LoggerMessage(Level = LogLevel.Information, Message = "Refused {Reason} for {RemoteAddress}: {Detail}")]
        public static partial void RefusedIdentity(ILogger logger, FailureReason reason, IPAddress remoteAddress, string detail);
    }
}
