namespace MetadataProxy.Hosting;

/// <summary>What a listener's <see cref="ConnectionGate"/> decided about a new connection.</summary>
internal enum ConnectionAdmission
{
    Admitted,

    /// <summary>Its source address already holds as many connections as one source may.</summary>
    SourceFull,

    /// <summary>The listener already holds as many connections as it accepts.</summary>
    ListenerFull,
}
