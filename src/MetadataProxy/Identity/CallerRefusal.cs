namespace MetadataProxy.Identity;

internal enum CallerRefusal
{
    /// <summary>No live pod owns the address (yet): retryable.</summary>
    Unknown,

    /// <summary>Several live pods claim the address: never guess.</summary>
    Ambiguous,

    /// <summary>The caller shares the node's network namespace.</summary>
    HostNetwork,

    /// <summary>The caller's ServiceAccount carries an annotation that cannot be honoured.</summary>
    InvalidAnnotation,

    /// <summary>The caller's pod names a ServiceAccount that does not exist.</summary>
    ServiceAccountMissing,

    /// <summary>The caller's ServiceAccount could not be read: retryable.</summary>
    ServiceAccountUnavailable,
}
