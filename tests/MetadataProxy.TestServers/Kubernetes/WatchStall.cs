namespace MetadataProxy.TestServers.Kubernetes;

/// <summary>The "stalled watch" switch: while on, every open watch stream stays open and silent (no event, no
/// bookmark), as a wedged proxy or a half-dead connection would leave it; lines queue and flow again once off.</summary>
internal sealed class WatchStall
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
