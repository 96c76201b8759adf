namespace MetadataProxy.TestServers.Kubernetes;

/// <summary>One chunk of a list: the resourceVersion it is consistent with, its items, and where the next one starts.</summary>
internal sealed record ListChunk<T>(long ResourceVersion, List<T> Items, string? Continue, long? RemainingItemCount);
