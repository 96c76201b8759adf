namespace MetadataProxy.TestServers.Kubernetes;

/// <summary>How many times every open watch has been ended (EndWatches) and cut (DropWatches, GoDown) so far: a watch
/// whose request arrived before one of them, but that registers after it, is ended or cut as well.</summary>
internal readonly record struct WatchCuts(long Ends, long Aborts);
