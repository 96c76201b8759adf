using System.Net;
using MetadataProxy.Hosting;

namespace MetadataProxy.Operations;

/// <summary>
/// Readiness that proves the path (issue 5): the server asks its own metadata listener for <c>/</c> the way a client
/// library pings it, and is ready only while that answers 200 with <c>Metadata-Flavor: Google</c>. Each check opens
/// a new connection (issue 9, row 1): a pooled one would still answer while the listener refuses every new caller.
/// Every listener address is asked, and each reason names its family (issue 10, point 6): an IPv6 address that was
/// not on the node at start and is there now means the interception covers IPv6 while nothing listens on it.
/// </summary>
internal sealed partial class MetadataListenerCheck(
    Listeners listeners,
    INodeAddresses node,
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
        foreach (var absent in listeners.MetadataAbsent)
            Log.NotOnNode(logger, absent);
        while (!stoppingToken.IsCancellationRequested)
        {
            var problem = await CheckAsync(stoppingToken);
            if (problem != _problem && problem is not null)
                Log.Failed(logger, problem);
            if (problem is null && _problem is not null)
                StartupPhase.Reached(logger, "readiness: the metadata listener answers its ping");
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

    internal async Task<string?> CheckAsync(CancellationToken cancellationToken)
    {
        foreach (var absent in listeners.MetadataAbsent)
        {
            if (node.IsAssigned(absent.Address))
                return $"{OptionalListenAddress.FamilyOf(absent)}: {absent.Address} is on this node now (the interception covers {OptionalListenAddress.FamilyOf(absent)}), "
                    + $"but it was not at start, so the server does not listen on {absent}; restart the pod";
        }

        if (listeners.Metadata.Count == 0)
            return "no metadata listener is bound (Listen:Metadata names no address on this node)";

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
                    return $"{OptionalListenAddress.FamilyOf(target)}: the metadata listener at {target} answered {(int)response.StatusCode} without Metadata-Flavor: Google";
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                return $"{OptionalListenAddress.FamilyOf(target)}: the metadata listener at {target} did not answer: {e.Message}";
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

        [LoggerMessage(Level = LogLevel.Information, Message = "No metadata listener on {Endpoint}: the address is not on this node, so the interception does not cover IPv6 here")]
        public static partial void NotOnNode(ILogger logger, IPEndPoint endpoint);
    }
}
