namespace MetadataProxy.CredentialProvider.Tests.Infrastructure;

/// <summary>A request as the stand-in received it.</summary>
internal sealed record RecordedRequest(string Method, string Path, string? MetadataFlavor, string? ContentType, string Body);
