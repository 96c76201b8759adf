using System.Net;

namespace MetadataProxy.Metadata;

/// <summary>
/// A normalised request below <c>/computeMetadata/v1/</c>: its segments, the caller's socket address, its query, and
/// whether it came over the node socket (then the caller is the node itself, whatever the address says).
/// </summary>
internal sealed record MetadataRequest(
    IReadOnlyList<string> Segments,
    bool TrailingSlash,
    IPAddress RemoteAddress,
    IQueryCollection Query,
    string QueryString,
    bool NodeSocket = false)
{
    public const string Root = "/computeMetadata/v1/";

    public string FullPath => Root + string.Join('/', Segments) + (TrailingSlash && Segments.Count > 0 ? "/" : "");

    public string PathWithSlash => Segments.Count == 0 ? Root : Root + string.Join('/', Segments) + "/";
}
