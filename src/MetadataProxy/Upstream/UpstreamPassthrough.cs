using MetadataProxy.Hosting;
using MetadataProxy.Metadata;
using MetadataProxy.Operations;
using Yarp.ReverseProxy.Forwarder;

namespace MetadataProxy.Upstream;

/// <summary>
/// Sends a path this server does not serve, when the policy allows it, to the VM's own metadata server through
/// YARP, streaming both ways: a <c>wait_for_change</c> holds no thread and ends when its caller goes away.
/// </summary>
internal sealed class UpstreamPassthrough(
    UpstreamServer upstream,
    IHttpForwarder forwarder,
    UpstreamListings listings,
    ProxyMetrics metrics,
    TimeProvider time)
{
    /// <summary>Longest silence of a forwarded wait_for_change: GCE's own longest wait (W-10) and a margin.</summary>
    private static readonly TimeSpan WaitActivityTimeout = TimeSpan.FromHours(1) + TimeSpan.FromMinutes(1);

    /// <summary>
    /// YARP's own silence limit, a real timer, for every other request: only a net far behind the request budget, which
    /// runs on the injected clock and ends the request first (at the budget's 2.8 s the answer is the 503 below).
    /// </summary>
    private static readonly TimeSpan ValueActivityTimeout = TimeSpan.FromSeconds(30);

    private static readonly string[] ForwardedQuery = ["recursive", "alt", "wait_for_change", "last_etag", "timeout_sec"];

    public bool Enabled => upstream.Enabled;

    /// <summary>
    /// What the VM's metadata server adds to this server's answer: the answer itself for an allowed path this server
    /// does not serve (null once written), its allowed values in a recursive listing; otherwise <paramref name="local"/>.
    /// </summary>
    public async Task<MetadataResult?> ApplyAsync(HttpContext context, MetadataPath path, MetadataResult local, CancellationToken budget) => local switch
    {
        MetadataResult.Failure { Reason: FailureReason.NotFound } notFound => await ForwardAsync(context, path, notFound, budget),
        MetadataResult.Content content when listings.MergesAt(context.Request, path) is { } at => await listings.MergeAsync(at, content, budget),
        _ => local,
    };

    /// <summary>
    /// Forwards when allowed; null when the answer (the upstream's, or nothing for a caller that went away) is written,
    /// else the result to answer instead: <paramref name="local"/> when the path is not the upstream's to answer.
    /// </summary>
    private async Task<MetadataResult?> ForwardAsync(HttpContext context, MetadataPath path, MetadataResult.Failure local, CancellationToken budget)
    {
        if (!path.StartsWith("computeMetadata", "v1"))
            return local;
        var segments = path.Segments.Skip(2).ToArray();
        var query = context.Request.Query;
        var wait = MetadataQuery.IsTrue(query["wait_for_change"]);
        switch (UpstreamPolicy.Decide(context.Request.Method, segments, MetadataQuery.IsTrue(query["recursive"]), upstream.Allow))
        {
            case UpstreamDecision.Concealed:
                return new MetadataResult.Failure(FailureReason.Concealed, "This metadata endpoint is concealed.");
            case UpstreamDecision.NotAllowed:
                return local;
        }

        if (upstream.State != UpstreamState.Verified)
        {
            var loop = upstream.State == UpstreamState.Loop;
            metrics.UpstreamRequest(loop ? "loop" : "unchecked", Kind(wait), TimeSpan.Zero);
            return new MetadataResult.Failure(FailureReason.UpstreamUnavailable, loop
                ? "The VM metadata server is configured as this server itself (a loop); nothing is forwarded."
                : "The VM metadata server has not answered yet; retry shortly.", TimeSpan.FromSeconds(1));
        }

        var started = time.GetTimestamp();
        var target = new Uri(upstream.Address + MetadataRequest.Root + string.Join('/', segments) + (path.TrailingSlash && segments.Length > 0 ? "/" : "")
                             + QueryString.Create(ForwardedQuery.Where(k => query.ContainsKey(k)).Select(k => KeyValuePair.Create(k, (string?)query[k].ToString()))));
        var config = new ForwarderRequestConfig { ActivityTimeout = wait ? WaitActivityTimeout : ValueActivityTimeout };
        var error = await forwarder.SendAsync(context, upstream.Address, upstream.Client, config, new UpstreamTransformer(target), budget);
        var elapsed = time.GetElapsedTime(started);

        if (error == ForwarderError.None)
        {
            metrics.UpstreamRequest(UpstreamOutcomes.OfStatus((System.Net.HttpStatusCode)context.Response.StatusCode), Kind(wait), elapsed);
            return null;
        }

        if (context.RequestAborted.IsCancellationRequested)
        {
            metrics.UpstreamRequest("cancelled", Kind(wait), elapsed);
            return null;
        }

        var timedOut = budget.IsCancellationRequested || error is ForwarderError.RequestTimedOut;
        if (context.Response.HasStarted)
        {
            metrics.UpstreamRequest("broken", Kind(wait), elapsed); // cut mid-answer: the caller sees a truncated response, as from the VM itself
            return null;
        }

        metrics.UpstreamRequest(timedOut ? "timeout" : "unreachable", Kind(wait), elapsed);
        return new MetadataResult.Failure(FailureReason.UpstreamUnavailable, timedOut
            ? $"The VM metadata server did not answer within {MetadataEndpoint.RequestBudget.TotalSeconds:0.0} s; retry shortly."
            : "The VM metadata server is unreachable; retry shortly.", TimeSpan.FromSeconds(1));
    }

    private static string Kind(bool wait) => wait ? "wait" : "value";
}
