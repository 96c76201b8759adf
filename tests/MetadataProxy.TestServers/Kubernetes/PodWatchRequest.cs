namespace MetadataProxy.TestServers.Kubernetes;

/// <summary>The parameters of a pod watch: where, what, from which resourceVersion (null or 0: from now, with
/// synthetic ADDED for what exists), with bookmarks or not, for how long.</summary>
internal sealed record PodWatchRequest(string? Namespace, PodFieldSelector Selector, long? From, bool AllowBookmarks, TimeSpan? Timeout);
