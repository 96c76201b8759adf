using MetadataProxy.Hosting;

namespace MetadataProxy.Upstream;

/// <summary>
/// Makes sure <c>Upstream:Address</c> is not this very server before anything is forwarded: once the listeners are
/// up, one bounded GET; an answer carrying this process's <see cref="ServerMarker"/> refuses the start. An upstream
/// that does not answer does not hold the start: forwarding fails closed (503) while the check is retried.
/// </summary>
internal sealed partial class UpstreamLoopCheck(
    UpstreamServer upstream,
    ServerMarker marker,
    TimeProvider time,
    IHostApplicationLifetime lifetime,
    ILogger<UpstreamLoopCheck> logger) : IHostedLifecycleService
{
    public static readonly TimeSpan AttemptTimeout = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(30);
    private Task _retries = Task.CompletedTask;

    public async Task StartedAsync(CancellationToken cancellationToken)
    {
        if (!upstream.Enabled)
            return;
        switch (await CheckOnceAsync(cancellationToken))
        {
            case UpstreamState.Loop:
                throw new ConfigurationProblemsException([LoopProblem()]);
            case UpstreamState.Unchecked:
                _retries = RetryAsync(lifetime.ApplicationStopping);
                break;
        }
    }

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => _retries;

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private async Task RetryAsync(CancellationToken stopping)
    {
        var delay = TimeSpan.FromSeconds(1);
        try
        {
            while (true)
            {
                await Task.Delay(delay, time, stopping);
                var state = await CheckOnceAsync(stopping);
                if (state == UpstreamState.Loop)
                {
                    var problem = LoopProblem();
                    Log.Loop(logger, problem);
                    lifetime.StopApplication();
                    return;
                }

                if (state == UpstreamState.Verified)
                    return;
                delay = delay * 2 > MaxRetryDelay ? MaxRetryDelay : delay * 2;
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
    }

    private async Task<UpstreamState> CheckOnceAsync(CancellationToken cancellationToken)
    {
        using var attempt = new RequestDeadline(AttemptTimeout, time, cancellationToken);
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, upstream.Address + "/computeMetadata/v1/");
            request.Headers.TryAddWithoutValidation(MetadataHeaders.Flavor, MetadataHeaders.FlavorValue);
            using var response = await upstream.Client.SendAsync(request, attempt.Token);
            upstream.State = marker.IsOn(response) ? UpstreamState.Loop : UpstreamState.Verified;
            if (upstream.State == UpstreamState.Verified)
                Log.Verified(logger, upstream.Address, (int)response.StatusCode);
        }
        catch (Exception e) when (e is HttpRequestException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            Log.Unreachable(logger, upstream.Address, e.Message);
        }

        return upstream.State;
    }

    private string LoopProblem() =>
        $"Upstream:Address '{upstream.Address}' answers as this very server (a loop): point it at the VM's own metadata server, " +
        "reached over the host's route and not through the interception.";

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Passthrough to {Address} checked (HTTP {Status}, not this server): forwarding allowed paths")]
        public static partial void Verified(ILogger logger, string address, int status);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Passthrough to {Address} not checked yet ({Error}); allowed paths answer 503 until it answers")]
        public static partial void Unreachable(ILogger logger, string address, string error);

        [LoggerMessage(Level = LogLevel.Critical, Message = "{Problem} Stopping.")]
        public static partial void Loop(ILogger logger, string problem);
    }
}
