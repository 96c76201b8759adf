namespace MetadataProxy.Pods;

/// <summary>The pod watch heard nothing for <see cref="Silence"/>; the informer resumes from the newest resourceVersion it heard.</summary>
internal sealed class WatchSilentException(TimeSpan silence, Exception? inner)
    : Exception($"No pod watch event or bookmark for {silence.TotalSeconds:0.0} s.", inner)
{
    public TimeSpan Silence => silence;
}
