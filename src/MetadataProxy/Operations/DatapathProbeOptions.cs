namespace MetadataProxy.Operations;

internal sealed class DatapathProbeOptions
{
    public const string Section = "Operations";

    /// <summary>
    /// The file <c>metadata-proxy-iptables verify --probe</c> writes when a pod-like request through 169.254.169.254
    /// reached its DNAT target (PROBE_MARKER_FILE). When set, the server is not ready until the file names one of its
    /// own metadata listeners and that listener answers the canary path. Empty (the default, and standalone mode): no
    /// such readiness condition.
    /// </summary>
    public string? DatapathProbeFile { get; set; }
}
