namespace MetadataProxy.Upstream;

internal enum UpstreamState
{
    /// <summary>Not yet known not to be this server: forwarding fails closed.</summary>
    Unchecked,

    Verified,

    /// <summary>The address answers as this very server: never forwarded to.</summary>
    Loop,
}
