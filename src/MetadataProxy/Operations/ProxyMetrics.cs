using MetadataProxy.Hosting;
using MetadataProxy.Metadata;
using Prometheus;

namespace MetadataProxy.Operations;

/// <summary>All of the server's metrics, on an injected registry; labels are bounded enums, never addresses or paths.</summary>
internal sealed class ProxyMetrics
{
    private readonly Counter _requests;
    private readonly Histogram _duration;

    public ProxyMetrics(CollectorRegistry registry)
    {
        var factory = Metrics.WithCustomRegistry(registry);
        _requests = factory.CreateCounter(
            "metadata_proxy_requests_total",
            "Metadata requests answered, by outcome (ok, redirect, or the refusal reason) and status code.",
            "outcome", "code");
        _duration = factory.CreateHistogram(
            "metadata_proxy_request_duration_seconds",
            "Time to answer a metadata request, by outcome.",
            new HistogramConfiguration
            {
                LabelNames = ["outcome"],
                Buckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
            });
    }

    public void RequestCompleted(MetadataResult result, TimeSpan elapsed)
    {
        var (outcome, code) = result switch
        {
            MetadataResult.Content => ("ok", "200"),
            MetadataResult.Redirect => ("redirect", "301"),
            MetadataResult.Failure f => (OutcomeLabel(f.Reason), MetadataResponseWriter.StatusCodeOf(f.Reason).ToString(System.Globalization.CultureInfo.InvariantCulture)),
            _ => ("unknown", "0"),
        };
        _requests.WithLabels(outcome, code).Inc();
        _duration.WithLabels(outcome).Observe(elapsed.TotalSeconds);
    }

    public void RequestAborted() => _requests.WithLabels("aborted", "0").Inc();

    private static string OutcomeLabel(FailureReason reason) => reason switch
    {
        FailureReason.BadRequest => "bad_request",
        FailureReason.NotFound => "not_found",
        FailureReason.MethodNotAllowed => "method_not_allowed",
        FailureReason.MissingMetadataFlavor => "missing_metadata_flavor",
        FailureReason.Forwarded => "forwarded",
        FailureReason.LegacyEndpoint => "legacy_endpoint",
        FailureReason.Concealed => "concealed",
        FailureReason.CallerUnknown => "caller_unknown",
        FailureReason.CallerAmbiguous => "caller_ambiguous",
        FailureReason.HostNetworkDenied => "host_network_denied",
        FailureReason.InvalidAnnotation => "invalid_annotation",
        FailureReason.NoGoogleServiceAccount => "no_google_service_account",
        FailureReason.UpstreamRejected => "upstream_rejected",
        FailureReason.UpstreamUnavailable => "upstream_unavailable",
        FailureReason.CredentialsNotConfigured => "credentials_not_configured",
        _ => "unknown",
    };
}
