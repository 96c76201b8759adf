using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using MetadataProxy.Metadata;

namespace MetadataProxy.Hosting;

/// <summary>
/// The canary path of the datapath probe (issue 10, point 3): <c>/metadata-proxy-canary/NONCE</c>, a path the real
/// GCE metadata server answers 404, is answered with the nonce and the caller's address, so that
/// <c>metadata-proxy-iptables verify --probe</c> (a request from a pod-like namespace through 169.254.169.254) and the
/// server's own start-up check can tell this server from anything else that answers HTTP. Answered before any caller
/// resolution: it names no pod, account or token, and costs no call to Kubernetes or Google.
/// The script's own responder gives the very same body (iptables/metadata-proxy-iptables.sh, start_responder).
/// </summary>
internal static partial class DatapathCanary
{
    public const string Segment = "metadata-proxy-canary";

    public static MetadataResult Answer(string nonce, IPAddress caller) =>
        Nonce().IsMatch(nonce)
            ? new MetadataResult.Content("text/plain; charset=utf-8", Encoding.UTF8.GetBytes(Body(nonce, caller)), ETag: nonce[..16])
            : new MetadataResult.Failure(FailureReason.BadRequest, "The canary nonce must be 16 to 128 letters or digits.");

    public static string Body(string nonce, IPAddress caller) => $"metadata-proxy canary {nonce} from {caller}\n";

    [GeneratedRegex("^[0-9A-Za-z]{16,128}$")]
    private static partial Regex Nonce();
}
