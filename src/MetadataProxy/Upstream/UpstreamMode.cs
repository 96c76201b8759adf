namespace MetadataProxy.Upstream;

/// <summary>Whether allow-listed paths the server does not serve itself go to the VM's own metadata server.</summary>
internal enum UpstreamMode
{
    Off,
    Passthrough,

    /// <summary>Passthrough on a Compute Engine VM (DMI product name), off elsewhere; the choice is logged.</summary>
    Auto,
}
