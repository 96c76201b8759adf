namespace MetadataProxy.Metadata;

/// <summary>How a directory's keys appear in recursive JSON (spec R-3).</summary>
internal enum KeyStyle
{
    /// <summary>Keys defined by the API (<c>numeric-project-id</c>) become camelCase (<c>numericProjectId</c>).</summary>
    Fixed,

    /// <summary>Keys chosen by users (attribute names, service-account e-mails) stay verbatim.</summary>
    Free,
}
