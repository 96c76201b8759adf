namespace MetadataProxy.TestServers.Kubernetes;

/// <summary>Tasks that complete when a count (open watches) first satisfies a condition. The owner calls both
/// members under its lock, so a change can never slip between the check and the registration.</summary>
internal sealed class CountWaiters
{
    private readonly List<(Func<int, bool> Condition, TaskCompletionSource Done)> _waiters = [];

    public Task WaitAsync(int current, Func<int, bool> condition)
    {
        if (condition(current))
        {
            return Task.CompletedTask;
        }

        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _waiters.Add((condition, done));
        return done.Task;
    }

    public void Notify(int count)
    {
        foreach (var waiter in _waiters.Where(w => w.Condition(count)).ToList())
        {
            waiter.Done.TrySetResult();
            _waiters.Remove(waiter);
        }
    }
}
