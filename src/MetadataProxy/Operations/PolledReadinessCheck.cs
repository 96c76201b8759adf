using System.Net;

namespace MetadataProxy.Operations;

/// <summary>
/// A readiness condition the server checks on itself once its listeners are up: again every
/// <see cref="RetryInterval"/> while it fails, then every <see cref="RecheckInterval"/> (or never again, when null).
/// <c>/readyz</c> says the last reason; a new reason is logged once.
/// </summary>
internal abstract partial class PolledReadinessCheck(
    IHostApplicationLifetime lifetime,
    TimeProvider time,
    ILogger logger,
    string notCheckedYet) : BackgroundService, IReadinessCheck
{
    public static readonly TimeSpan RetryInterval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan AnswerTimeout = TimeSpan.FromSeconds(2);

    private volatile string? _problem = notCheckedYet;

    /// <summary>How long a passed check holds before it is made again; null: it holds for good.</summary>
    protected abstract TimeSpan? RecheckInterval { get; }

    public string? NotReadyReason() => _problem;

    /// <summary>Null when the condition holds, else why not, in words for <c>/readyz</c>.</summary>
    internal abstract Task<string?> CheckAsync(CancellationToken cancellationToken);

    protected virtual void OnStarted()
    {
    }

    protected virtual void OnPassed()
    {
    }

    /// <summary>
    /// A client of its own for one check: its pool starts empty and is gone afterwards, so each check opens a new
    /// connection (issue 9, row 1), as a pooled one would still answer while the listener refuses every new caller.
    /// </summary>
    protected static HttpClient NewConnectionClient() =>
        new(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false, ConnectTimeout = ConnectTimeout }) { Timeout = AnswerTimeout };

    /// <summary>Where to reach a listener from this host: its own address, or loopback for a wildcard one.</summary>
    protected static IPEndPoint Reachable(IPEndPoint listener) =>
        listener.Address.Equals(IPAddress.Any) ? new IPEndPoint(IPAddress.Loopback, listener.Port)
        : listener.Address.Equals(IPAddress.IPv6Any) ? new IPEndPoint(IPAddress.IPv6Loopback, listener.Port)
        : listener;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
        {
            try
            {
                await started.Task.WaitAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return; // the host stopped before it started (a listener that could not bind): not this check's failure
            }
        }

        OnStarted();
        while (!stoppingToken.IsCancellationRequested)
        {
            var problem = await CheckAsync(stoppingToken);
            if (problem != _problem && problem is not null)
                Log.Failed(logger, problem);
            var passed = problem is null && _problem is not null;
            _problem = problem;
            if (passed)
                OnPassed();
            if (problem is null && RecheckInterval is null)
                return;
            try
            {
                await Task.Delay(problem is null ? RecheckInterval!.Value : RetryInterval, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "Not ready: {Problem}")]
        public static partial void Failed(ILogger logger, string problem);
    }
}
