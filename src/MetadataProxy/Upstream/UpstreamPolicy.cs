using MetadataProxy.Metadata;

namespace MetadataProxy.Upstream;

/// <summary>
/// The pure allow/conceal decision for a normalised path below <c>/computeMetadata/v1/</c>. The conceal list is fixed
/// and always wins; only plain key segments are forwarded, so no spelling (case, trailing dot, encoding, <c>;</c>,
/// backslash) can name a concealed key to the upstream while looking harmless here.
/// </summary>
internal static class UpstreamPolicy
{
    /// <summary>What a pod on a Compute Engine node may read from the VM when the operator names nothing else.</summary>
    public static readonly IReadOnlyList<string> DefaultAllowEntries =
    [
        "instance/attributes", "project/attributes",
        "instance/network-interfaces", "instance/machine-type", "instance/cpu-platform", "instance/image", "instance/tags",
        "instance/maintenance-event", "instance/upcoming-maintenance", "instance/preempted", "instance/scheduling",
        "instance/description", "instance/disks", "instance/licenses",
        "instance/zone", "instance/id", "instance/name", "instance/hostname",
    ];

    public static readonly UpstreamAllowList DefaultAllow = new(DefaultAllowEntries);

    /// <summary>
    /// Keys never forwarded wherever they appear, in canonical form (see <see cref="Canonical"/>): <c>kube-env</c>,
    /// <c>KUBE_ENV</c>, <c>kubeEnv</c> and <c>kube-env.</c> are one key here, whatever the VM's server makes of them.
    /// </summary>
    private static readonly HashSet<string> ConcealedKeys = new(
        ConcealedAttributes.Keys.Concat(
        [
            "service-accounts", "token", "identity", "guest-attributes", "gce-workload-certificates", "credentials",
            "kube-env", "user-data", "ssh-keys", "sshkeys", "v1beta1", "0.1",
        ]).Select(Canonical),
        StringComparer.Ordinal);

    private static readonly string[] ConcealedPrefixes =
        [.. new[] { "kubelet-", "startup-script", "shutdown-script", "windows-startup-script", "sysprep-specialize-script" }.Select(Canonical)];

    /// <summary>Directories that hold concealed keys among allowed ones: never forwarded whole (recursive).</summary>
    private static readonly string[][] MixedDirectories = [[], ["instance"], ["project"], ["instance", "attributes"], ["project", "attributes"]];

    public static UpstreamDecision Decide(string method, IReadOnlyList<string> segments, bool recursive, UpstreamAllowList allow)
    {
        if (method is not ("GET" or "HEAD"))
            return UpstreamDecision.NotAllowed;
        if (segments.Any(IsConcealed))
            return UpstreamDecision.Concealed;
        if (!segments.All(IsPlainKey))
            return UpstreamDecision.NotAllowed;
        if (recursive && MixedDirectories.Any(d => d.SequenceEqual(segments, StringComparer.Ordinal)))
            return UpstreamDecision.NotAllowed;
        return allow.Covers(segments) ? UpstreamDecision.Forward : UpstreamDecision.NotAllowed;
    }

    public static bool IsConcealed(string segment)
    {
        var key = Canonical(segment);
        return ConcealedKeys.Contains(key) || ConcealedPrefixes.Any(p => key.StartsWith(p, StringComparison.Ordinal));
    }

    /// <summary>Lower case, without <c>-</c>, <c>_</c> and trailing dots or spaces.</summary>
    private static string Canonical(string key) =>
        string.Concat(key.TrimEnd('.', ' ').Where(c => c is not ('-' or '_'))).ToLowerInvariant();

    /// <summary>GCE's own key alphabet (<c>[a-zA-Z0-9-_]</c>): anything else is a trick or a typo, and stays local.</summary>
    public static bool IsPlainKey(string segment) =>
        segment.Length is > 0 and <= 128 && segment.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');

    public static string[] SegmentsOf(string entry) => entry.Split('/', StringSplitOptions.RemoveEmptyEntries);
}
