namespace MetadataProxy.Upstream;

/// <summary>What the passthrough policy makes of a path the server does not serve itself.</summary>
internal enum UpstreamDecision
{
    /// <summary>Not on the allow-list (or not a plain key path): the server's own 404 stands.</summary>
    NotAllowed,

    /// <summary>A secret of the VM (its service accounts, bootstrap attributes, keys): 404, and never asked upstream.</summary>
    Concealed,

    Forward,
}
