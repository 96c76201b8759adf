namespace MetadataProxy.Tokens;

/// <summary>
/// The shared Google slots (<c>Tokens:MaxConcurrentGoogleCalls</c>), handed out round-robin across Kubernetes service
/// accounts rather than first come, first served, so one account's queue never stands in front of another's first
/// fetch. An account holds at most <paramref name="perAccount"/> fetches, queued or running; past that it is refused
/// at once. A queued fetch whose caller left is dropped before it starts.
/// </summary>
internal sealed class UpstreamGate(int slots, int perAccount)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, LinkedList<Waiter>> _queues = new(StringComparer.Ordinal);
    private readonly LinkedList<string> _turns = new();
    private readonly Dictionary<string, int> _held = new(StringComparer.Ordinal);
    private int _free = slots;
    private int _queued;

    /// <summary>Fetches waiting for a slot, across all accounts.</summary>
    public int Queued => Volatile.Read(ref _queued);

    /// <summary>
    /// A slot for <paramref name="account"/> (the task completes when it is this account's turn; dispose the slot when
    /// done), or null when the account already holds its share. The task is cancelled, and its place given up, when
    /// <paramref name="cancellationToken"/> fires first.
    /// </summary>
    public Task<IDisposable>? TryEnterAsync(string account, CancellationToken cancellationToken)
    {
        var waiter = new Waiter(this, account);
        lock (_lock)
        {
            var held = _held.GetValueOrDefault(account);
            if (held >= perAccount)
                return null;
            _held[account] = held + 1;
            if (!_queues.TryGetValue(account, out var queue))
            {
                _queues[account] = queue = new LinkedList<Waiter>();
                _turns.AddLast(account);
            }

            waiter.Node = queue.AddLast(waiter);
            _queued++;
        }

        // Outside the lock: a token that has already fired runs the callback at once.
        waiter.Registration = cancellationToken.Register(static w => ((Waiter)w!).Abandon(), waiter);
        Dispatch();
        return waiter.Granted.Task;
    }

    private void Dispatch()
    {
        List<Waiter>? granted = null;
        lock (_lock)
        {
            while (_free > 0 && _turns.First is { } turn)
            {
                var account = turn.Value;
                var queue = _queues[account];
                var next = queue.First!.Value;
                queue.RemoveFirst();
                _queued--;
                _turns.RemoveFirst();
                if (queue.Count > 0)
                    _turns.AddLast(account); // its next fetch waits until every other account has had a turn
                else
                    _queues.Remove(account);
                next.State = WaiterState.Running;
                _free--;
                (granted ??= []).Add(next);
            }
        }

        foreach (var waiter in granted ?? [])
            waiter.Granted.TrySetResult(waiter);
    }

    private void Release(string account, bool wasRunning)
    {
        lock (_lock)
        {
            if (wasRunning)
                _free++;
            var held = _held[account] - 1;
            if (held == 0)
                _held.Remove(account);
            else
                _held[account] = held;
        }

        Dispatch();
    }

    private enum WaiterState
    {
        Queued,
        Running,
        Done,
    }

    private sealed class Waiter(UpstreamGate gate, string account) : IDisposable
    {
        public string Account => account;

        public TaskCompletionSource<IDisposable> Granted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public WaiterState State { get; set; }

        public LinkedListNode<Waiter>? Node { get; set; }

        public CancellationTokenRegistration Registration { get; set; }

        public void Abandon()
        {
            lock (gate._lock)
            {
                if (State != WaiterState.Queued)
                    return;
                State = WaiterState.Done;
                var queue = gate._queues[account];
                queue.Remove(Node!);
                gate._queued--;
                if (queue.Count == 0)
                {
                    // Nothing left to wait for; otherwise the account keeps its place in the rotation.
                    gate._queues.Remove(account);
                    gate._turns.Remove(account);
                }
            }

            gate.Release(account, wasRunning: false);
            Granted.TrySetCanceled();
        }

        public void Dispose()
        {
            Registration.Dispose();
            lock (gate._lock)
            {
                if (State != WaiterState.Running)
                    return;
                State = WaiterState.Done;
            }

            gate.Release(account, wasRunning: true);
        }
    }
}
