namespace MetadataProxy.Metadata;

/// <summary>The order of a directory's keys in listings and recursive renderings.</summary>
internal enum KeyOrder
{
    /// <summary>Keys defined by the API, and service accounts: ordinal, as GCE lists them.</summary>
    Ordinal,

    /// <summary>Attribute maps: the order in which the keys were set, as GCE keeps it (spec fixture, R-3).</summary>
    AsSet,
}
