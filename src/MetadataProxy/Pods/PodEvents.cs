namespace MetadataProxy.Pods;

/// <summary>Tells others that pods appeared or changed (ServiceAccount prefetch now, token prefetch later).</summary>
internal sealed class PodEvents
{
    public event Action<PodRecord>? PodChanged;

    public void Listed(IEnumerable<PodRecord> pods)
    {
        foreach (var pod in pods)
            Changed(pod);
    }

    public void Changed(PodRecord pod)
    {
        if (pod.IsLive)
            PodChanged?.Invoke(pod);
    }
}
