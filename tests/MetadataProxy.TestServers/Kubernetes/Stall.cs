namespace MetadataProxy.TestServers.Kubernetes;

/// <summary>A "stalled" switch: while on, whatever waits on it hangs, as behind a wedged proxy or a half-dead
/// connection (every watch stream open and silent, bookmarks included; Event writes unanswered); it flows again once off.</summary>
internal sealed class Stall
{
    private readonly Lock _gate = new();
    private TaskCompletionSource? _released;

    public bool IsOn
    {
        get
        {
            lock (_gate)
            {
                return _released is not null;
            }
        }
    }

    public void On()
    {
        lock (_gate)
        {
            _released ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }

    public void Off()
    {
        TaskCompletionSource? released;
        lock (_gate)
        {
            released = _released;
            _released = null;
        }

        released?.TrySetResult();
    }

    public Task WaitAsync(CancellationToken ct)
    {
        lock (_gate)
        {
            return _released is null ? Task.CompletedTask : _released.Task.WaitAsync(ct);
        }
    }
}
