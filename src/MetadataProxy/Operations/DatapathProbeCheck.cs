using System.Net;
using MetadataProxy.Hosting;
using Microsoft.Extensions.Options;

namespace MetadataProxy.Operations;

/// <summary>
/// Readiness after the datapath probe (issue 10, points 2 and 3). The init container's probe proves that a request
/// from a pod-like namespace to 169.254.169.254:80 reaches the DNAT target on this node, and writes that target to
/// <see cref="DatapathProbeOptions.DatapathProbeFile"/> in the pod's own emptyDir (so a file there was written for
/// this pod, after the node's last boot). The server cannot repeat the probe itself (it has no right to create a
/// network namespace), so at start it re-checks the rest of the path: the proven target is one of its own metadata
/// listeners (interception.env and config.env agree), and asked there with a fresh nonce, it is this server that
/// answers the canary path. Until both hold, <c>/readyz</c> says why; once they do, the check is done.
/// </summary>
internal sealed partial class DatapathProbeCheck(
    IOptions<DatapathProbeOptions> options,
    Listeners listeners,
    IHostApplicationLifetime lifetime,
    TimeProvider time,
    ILogger<DatapathProbeCheck> logger)
    : PolledReadinessCheck(lifetime, time, logger, "the datapath probe's result has not been checked yet")
{
    protected override TimeSpan? RecheckInterval => null;

    protected override void OnPassed()
    {
        StartupPhase.Reached(logger, "readiness: the datapath probe's target answers the canary");
        Log.Passed(logger);
    }

    internal override async Task<string?> CheckAsync(CancellationToken cancellationToken)
    {
        var file = options.Value.DatapathProbeFile!;
        string[] lines;
        try
        {
            lines = await File.ReadAllLinesAsync(file, cancellationToken);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return $"the datapath probe has not passed: {file} does not exist (the probe-datapath init container writes it when a pod's request reaches this node's DNAT target)";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"the datapath probe's result {file} cannot be read: {e.Message}";
        }

        var value = lines.FirstOrDefault(l => l.StartsWith("target=", StringComparison.Ordinal))?["target=".Length..];
        if (value is null || !IPEndPoint.TryParse(value, out var target) || target.Port == 0)
            return $"the datapath probe's result {file} names no target (a line target=ADDRESS:PORT)";
        if (!listeners.MetadataEndpoints.Any(e => Serves(e, target)))
            return $"the datapath probe proved that pods reach {target}, but this server's metadata listeners are {string.Join(", ", listeners.MetadataEndpoints)}: "
                + "METADATA_PROXY_ADDRESS and METADATA_PROXY_PORT (interception.env) must match Listen__Metadata (config.env)";

        var nonce = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
        using var client = NewConnectionClient();
        try
        {
            var body = await client.GetStringAsync(new Uri($"http://{target}/{DatapathCanary.Segment}/{nonce}"), cancellationToken);
            return body.StartsWith($"metadata-proxy canary {nonce} from ", StringComparison.Ordinal)
                ? null
                : $"the metadata listener at {target} answered the canary path without its nonce";
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            return $"the metadata listener at {target} did not answer the canary path: {e.Message}";
        }
    }

    // A listener on the wildcard address of the target's family serves the target too.
    private static bool Serves(IPEndPoint listener, IPEndPoint target) =>
        listener.Port == target.Port
        && (listener.Address.Equals(target.Address) || listener.Address.Equals(IPAddress.Any) && target.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork
            || listener.Address.Equals(IPAddress.IPv6Any));

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "The datapath probe passed and its target is this server's metadata listener")]
        public static partial void Passed(ILogger logger);
    }
}
