namespace MetadataProxy.Upstream;

internal sealed class UpstreamOptions
{
    public const string Section = "Upstream";

    public UpstreamMode Mode { get; set; } = UpstreamMode.Off;

    /// <summary>The VM's own metadata server, reached over the host's route (the server's own traffic is never intercepted).</summary>
    public string Address { get; set; } = "http://169.254.169.254";

    /// <summary>Path prefixes below <c>/computeMetadata/v1/</c> that may be forwarded; empty means <see cref="UpstreamPolicy.DefaultAllowEntries"/>.</summary>
    public List<string> Allow { get; set; } = [];

    /// <summary>The allow-list in force, parsed: the configured one, or the safe default when none is configured.</summary>
    public UpstreamAllowList EffectiveAllow() => Allow.Count == 0 ? UpstreamPolicy.DefaultAllow : new UpstreamAllowList(Allow);
}
