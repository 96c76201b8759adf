using System.Net;
using MetadataProxy.Hosting;

namespace MetadataProxy.Operations;

/// <summary>
/// Readiness that proves the path (issue 5): the server asks its own metadata listener for <c>/</c> the way a client
/// library pings it, and is ready only while that answers 200 with <c>Metadata-Flavor: Google</c>. Each check opens
/// a new connection (issue 9, row 1): a pooled one would still answer while the listener refuses every new caller.
/// </summary>
internal sealed partial class MetadataListenerCheck(
    Listeners listeners,
    IHostApplicationLifetime lifetime,
    TimeProvider time,
    ILogger<MetadataListenerCheck> logger) : BackgroundService, IReadinessCheck
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan RetryInterval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan AnswerTimeout = TimeSpan.FromSeconds(2);

    private volatile string? _problem = "the metadata listener has not been checked yet";

    public string? NotReadyReason() => _problem;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await WhenStartedAsync(stoppingToken);
        while (!stoppingToken.IsCancellationRequested)
        {
            var problem = await CheckAsync(stoppingToken);
            if (problem != _problem && problem is not null)
                Log.Failed(logger, problem);
            _problem = problem;
            try
            {
                await Task.Delay(problem is null ? Interval : RetryInterval, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task<string?> CheckAsync(CancellationToken cancellationToken)
    {
        // A handler of its own per check: its pool starts empty and is gone afterwards, so the ping needs a new connection.
        using var client = new HttpClient(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false, ConnectTimeout = ConnectTimeout })
        {
            Timeout = AnswerTimeout,
        };
        foreach (var endpoint in listeners.MetadataEndpoints)
        {
            var target = endpoint.Address.Equals(IPAddress.Any) ? new IPEndPoint(IPAddress.Loopback, endpoint.Port)
                : endpoint.Address.Equals(IPAddress.IPv6Any) ? new IPEndPoint(IPAddress.IPv6Loopback, endpoint.Port)
                : endpoint;
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, $"http://{target}/");
                request.Headers.Add(MetadataHeaders.Flavor, MetadataHeaders.FlavorValue);
                using var response = await client.SendAsync(request, cancellationToken);
                if (response.StatusCode != HttpStatusCode.OK
                    || !response.Headers.TryGetValues(MetadataHeaders.Flavor, out var flavor) || !flavor.SequenceEqual([MetadataHeaders.FlavorValue]))
                    return $"the metadata listener at {target} answered {(int)response.StatusCode} without Metadata-Flavor: Google";
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                return $"the metadata listener at {target} did not answer: {e.Message}";
            }
        }

        return null;
    }

    private async Task WhenStartedAsync(CancellationToken stoppingToken)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var registration = lifetime.ApplicationStarted.Register(() => started.TrySetResult());
        await started.Task.WaitAsync(stoppingToken);
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "Not ready: {Problem}")]
        public static partial void Failed(ILogger logger, string problem);
    }
}
