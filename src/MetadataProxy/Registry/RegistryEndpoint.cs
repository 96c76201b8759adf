using System.Net;
using MetadataProxy.Hosting;
using MetadataProxy.Metadata;
using MetadataProxy.Operations;
using Microsoft.AspNetCore.Http.Features;

namespace MetadataProxy.Registry;

/// <summary>
/// Registry credentials on the node socket, for the credential provider plugin and the Docker helper:
/// <c>GET /registry/v1/node-token</c> (the node identity) and <c>POST /registry/v1/pod-token</c> (the pulling pod's own
/// identity, KEP-4412). Answers are the GCE token JSON; refusals one line of text with the metadata API's statuses.
/// </summary>
internal sealed partial class RegistryEndpoint(
    MetadataService metadata,
    PodRegistryCredentials podCredentials,
    ProxyMetrics metrics,
    TimeProvider time,
    ILogger<RegistryEndpoint> logger)
{
    public const string PathPrefix = "/registry/";

    /// <summary>Inside the plugin's own 10 s: an answer, or a retryable refusal, always arrives before the plugin gives up.</summary>
    private static readonly TimeSpan RequestBudget = TimeSpan.FromSeconds(6);

    private static readonly string[] NodeTokenPath = ["instance", "service-accounts", "default", "token"];

    public async Task InvokeAsync(HttpContext context)
    {
        context.Response.Headers[MetadataHeaders.Flavor] = MetadataHeaders.FlavorValue;
        using var budget = new RequestDeadline(RequestBudget, time, context.RequestAborted);
        (string path, MetadataResult? result) = (context.Request.Path.Value, context.Request.Method) switch
        {
            ("/registry/v1/node-token", "GET") => ("node", null),
            ("/registry/v1/pod-token", "POST") => ("pod", null),
            ("/registry/v1/node-token", _) => ("node", MethodNotAllowed("GET")),
            ("/registry/v1/pod-token", _) => ("pod", MethodNotAllowed("POST")),
            _ => ("none", new MetadataResult.Failure(FailureReason.NotFound,
                $"{context.Request.Path.Value} is not served: the node socket's registry paths are /registry/v1/node-token and /registry/v1/pod-token.")),
        };
        if (result is null && context.Request.Headers[MetadataHeaders.Flavor] != MetadataHeaders.FlavorValue)
            result = new MetadataResult.Failure(FailureReason.MissingMetadataFlavor, "Missing Metadata-Flavor:Google header.");

        try
        {
            result ??= path == "node" ? await NodeTokenAsync(budget.Token) : await PodTokenAsync(context, budget.Token);
        }
        catch (OperationCanceledException) when (budget.Expired(context.RequestAborted))
        {
            result = new MetadataResult.Failure(FailureReason.UpstreamUnavailable,
                $"The credential took longer than {RequestBudget.TotalSeconds:0} s; retry shortly.", TimeSpan.FromSeconds(1));
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            return; // the plugin went away
        }

        if (path != "none")
            metrics.RegistryCredentials(path, result);
        if (result is MetadataResult.Failure failure)
            Log.Refused(logger, path, failure.Reason, failure.Message);
        await WriteAsync(context, result);
    }

    private Task<MetadataResult> NodeTokenAsync(CancellationToken cancellationToken) =>
        metadata.GetAsync(new MetadataRequest(NodeTokenPath, false, IPAddress.None, QueryCollection.Empty, "", NodeSocket: true), cancellationToken);

    private async Task<MetadataResult> PodTokenAsync(HttpContext context, CancellationToken cancellationToken)
    {
        if (context.Request.ContentLength > PodTokenRequest.MaxBodyBytes)
            return BadRequest($"The body is larger than {PodTokenRequest.MaxBodyBytes} bytes.");
        context.Features.Get<IHttpMaxRequestBodySizeFeature>()?.MaxRequestBodySize = PodTokenRequest.MaxBodyBytes;
        using var body = new MemoryStream();
        try
        {
            await context.Request.Body.CopyToAsync(body, cancellationToken);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return BadRequest($"The body is larger than {PodTokenRequest.MaxBodyBytes} bytes.");
        }
        catch (BadHttpRequestException e)
        {
            return BadRequest($"The body could not be read: {e.Message}");
        }

        return PodTokenRequest.Parse(body.GetBuffer().AsSpan(0, (int)body.Length), out var problem) is { } request
            ? await podCredentials.GetAsync(request, cancellationToken)
            : BadRequest($"Not a pod-token request: {problem}.");
    }

    private static MetadataResult.Failure BadRequest(string message) => new(FailureReason.BadRequest, message);

    private static MetadataResult.Failure MethodNotAllowed(string allowed) => new(FailureReason.MethodNotAllowed, $"This path answers {allowed} only.");

    private static Task WriteAsync(HttpContext context, MetadataResult result)
    {
        if (result is not MetadataResult.Failure failure)
            return MetadataResponseWriter.WriteAsync(context, result);
        // One line of plain text: the plugin prints it as the reason (the metadata API's HTML-escaped body is for browsers).
        MetadataResponseWriter.WriteFailureStatus(context.Response, failure);
        var text = System.Text.Encoding.UTF8.GetBytes(failure.Message.ReplaceLineEndings(" ") + "\n");
        context.Response.ContentType = "text/plain; charset=utf-8";
        context.Response.ContentLength = text.Length;
        return context.Response.Body.WriteAsync(text, context.RequestAborted).AsTask();
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Refused {Path} registry credentials ({Reason}): {Detail}")]
        public static partial void Refused(ILogger logger, string path, FailureReason reason, string detail);
    }
}
