namespace MetadataProxy.TestServers.Google;

/// <summary>
/// Faults for one endpoint group: a delay before answering (the request's abort is honoured), a forced status
/// for every call, or a forced status for the next N calls only. Pending "next N" failures win over FailWith.
/// </summary>
public sealed class FaultInjection
{
    private readonly Lock _gate = new();
    private readonly Func<int, string> _defaultBody;
    private long _latencyTicks;
    private (int Status, string? Body)? _always;
    private (int Status, string? Body, int Remaining)? _next;

    internal FaultInjection(Func<int, string> defaultBody) => _defaultBody = defaultBody;

    /// <summary>Real (wall-clock) delay before every answer of this group, independent of the server's TimeProvider.</summary>
    public TimeSpan Latency
    {
        get => TimeSpan.FromTicks(Interlocked.Read(ref _latencyTicks));
        set => Interlocked.Exchange(ref _latencyTicks, value.Ticks);
    }

    /// <summary>Answers every call with <paramref name="status"/> until <see cref="Clear"/>; the body defaults to Google's shape.</summary>
    public void FailWith(int status, string? googleErrorBody = null)
    {
        lock (_gate)
        {
            _always = (status, googleErrorBody);
        }
    }

    /// <summary>Answers the next <paramref name="calls"/> calls with <paramref name="status"/>, then recovers.</summary>
    public void FailNextCalls(int calls, int status, string? googleErrorBody = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(calls);
        lock (_gate)
        {
            _next = calls == 0 ? null : (status, googleErrorBody, calls);
        }
    }

    public void Clear()
    {
        Latency = TimeSpan.Zero;
        lock (_gate)
        {
            _always = null;
            _next = null;
        }
    }

    /// <summary>Waits out the latency (throws if <paramref name="aborted"/> fires), then takes a forced failure if any.</summary>
    internal async Task<(int Status, string Body)?> ApplyAsync(CancellationToken aborted)
    {
        if (Latency > TimeSpan.Zero)
        {
            await Task.Delay(Latency, aborted);
        }

        return TryTakeFailure(out var status, out var body) ? (status, body) : null;
    }

    /// <summary>
    /// Puts one request through this group's faults. False when the request was finished here: abandoned during the
    /// latency (<paramref name="record"/> gets 499 and no body) or answered with a forced failure (its status and body).
    /// </summary>
    internal async Task<bool> PassAsync(HttpContext context, Action<int, string?> record, CancellationToken stopping)
    {
        (int Status, string Body)? fault;
        using var waiting = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, stopping);
        try
        {
            fault = await ApplyAsync(waiting.Token);
        }
        catch (OperationCanceledException) when (waiting.IsCancellationRequested)
        {
            record(StatusCodes.Status499ClientClosedRequest, null);
            return false;
        }

        if (fault is not { } f)
            return true;
        record(f.Status, f.Body);
        await JsonResponse.WriteAsync(context.Response, f.Status, f.Body, context.RequestAborted);
        return false;
    }

    internal bool TryTakeFailure(out int status, out string body)
    {
        lock (_gate)
        {
            if (_next is { } next)
            {
                _next = next.Remaining > 1 ? next with { Remaining = next.Remaining - 1 } : null;
                (status, body) = (next.Status, next.Body ?? _defaultBody(next.Status));
                return true;
            }

            if (_always is { } always)
            {
                (status, body) = (always.Status, always.Body ?? _defaultBody(always.Status));
                return true;
            }
        }

        (status, body) = (0, string.Empty);
        return false;
    }
}
