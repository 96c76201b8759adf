namespace MetadataProxy.TestServers.ComputeMetadata;

/// <summary>One request as it reached the Compute Engine test server: the raw target, before any decoding.</summary>
public sealed record ReceivedRequest(string Method, string RawTarget, IReadOnlyDictionary<string, string> Headers);
