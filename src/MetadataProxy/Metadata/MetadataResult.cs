namespace MetadataProxy.Metadata;

/// <summary>What a metadata request comes to; Hosting turns it into bytes on the wire in one place.</summary>
internal abstract record MetadataResult
{
    public sealed record Content(string ContentType, byte[] Body, string ETag) : MetadataResult;

    /// <summary>A directory asked for without its trailing slash (D-3).</summary>
    public sealed record Redirect(string Location) : MetadataResult;

    public sealed record Failure(FailureReason Reason, string Message, TimeSpan? RetryAfter = null) : MetadataResult;

    /// <summary>D-10: nothing is served at <paramref name="path"/>.</summary>
    public static Failure NotFound(string path) => new(FailureReason.NotFound, $"The requested URL {path} was not found on this server.");
}
