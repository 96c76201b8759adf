namespace MetadataProxy.Pods;

/// <summary>The pod watch heard nothing for <see cref="Silence"/>; it resumes from <see cref="ResourceVersion"/>.</summary>
internal sealed class WatchSilentException(string resourceVersion, TimeSpan silence, Exception? inner)
    : Exception($"No pod watch event or bookmark for {silence.TotalSeconds:0.0} s.", inner)
{
    public string ResourceVersion => resourceVersion;

    public TimeSpan Silence => silence;
}
