using System.Net;
using MetadataProxy.Hosting;

namespace MetadataProxy.Operations;

/// <summary>
/// Readiness that proves the path (issue 5): the server asks its own metadata listener for <c>/</c> the way a client
/// library pings it, and is ready only while that answers 200 with <c>Metadata-Flavor: Google</c>, on a new
/// connection each time.
/// Every listener address is asked, and each reason names its family (issue 10, point 6): an IPv6 address that was
/// not on the node at start and is there now means the interception covers IPv6 while nothing listens on it.
/// </summary>
internal sealed partial class MetadataListenerCheck(
    Listeners listeners,
    INodeAddresses node,
    IHostApplicationLifetime lifetime,
    TimeProvider time,
    ILogger<MetadataListenerCheck> logger)
    : PolledReadinessCheck(lifetime, time, logger, "the metadata listener has not been checked yet")
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);

    protected override TimeSpan? RecheckInterval => Interval;

    protected override void OnPassed() => StartupPhase.Reached(logger, "readiness: the metadata listener answers its ping");

    protected override void OnStarted()
    {
        foreach (var absent in listeners.MetadataAbsent)
            Log.NotOnNode(logger, absent);
    }

    internal override async Task<string?> CheckAsync(CancellationToken cancellationToken)
    {
        foreach (var absent in listeners.MetadataAbsent)
        {
            if (node.IsAssigned(absent.Address))
                return $"{OptionalListenAddress.FamilyOf(absent)}: {absent.Address} is on this node now (the interception covers {OptionalListenAddress.FamilyOf(absent)}), "
                    + $"but it was not at start, so the server does not listen on {absent}; restart the pod";
        }

        if (listeners.Metadata.Count == 0)
            return "no metadata listener is bound (Listen:Metadata names no address on this node)";

        using var client = NewConnectionClient();
        foreach (var endpoint in listeners.MetadataEndpoints)
        {
            var target = Reachable(endpoint);
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

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "No metadata listener on {Endpoint}: the address is not on this node, so the interception does not cover IPv6 here")]
        public static partial void NotOnNode(ILogger logger, IPEndPoint endpoint);
    }
}
