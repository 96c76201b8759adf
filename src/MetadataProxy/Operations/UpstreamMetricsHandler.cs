namespace MetadataProxy.Operations;

/// <summary>
/// Counts and times every Google call (STS, IAM Credentials) at the HTTP level, on the one shared handler all
/// credential chains send over. Token calls carry their deadline as cancellation, so a cancelled send is a timeout.
/// </summary>
internal sealed class UpstreamMetricsHandler(ProxyMetrics metrics, TimeProvider time) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var call = UpstreamOutcomes.GoogleCallOf(request.RequestUri);
        var started = time.GetTimestamp();
        var outcome = "error";
        try
        {
            var response = await base.SendAsync(request, cancellationToken);
            outcome = UpstreamOutcomes.OfStatus(response.StatusCode);
            return response;
        }
        catch (Exception e) when (e is OperationCanceledException or HttpRequestException or IOException)
        {
            outcome = e is OperationCanceledException ? "timeout" : "error";
            throw;
        }
        finally
        {
            metrics.UpstreamCall(call, outcome, time.GetElapsedTime(started));
        }
    }
}
