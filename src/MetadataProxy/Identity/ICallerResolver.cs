using System.Net;

namespace MetadataProxy.Identity;

internal interface ICallerResolver
{
    /// <summary>Who is calling from <paramref name="remoteAddress"/>, the socket's own peer address.</summary>
    ValueTask<CallerOutcome> ResolveAsync(IPAddress remoteAddress, CancellationToken cancellationToken);

    /// <summary>
    /// Who is calling, from what is known right now: never waits on Kubernetes (principle 4). For recursive listings
    /// that merely include the service accounts, such as gax's 500 ms platform probe.
    /// </summary>
    CallerOutcome ResolveKnown(IPAddress remoteAddress);

    /// <summary>The node's own identity: callers on the node socket (root on the node, the kubelet's plugin).</summary>
    ValueTask<CallerOutcome> ResolveNodeAsync(CancellationToken cancellationToken);

    /// <summary>The node's own identity from what is known right now (recursive listings never wait).</summary>
    CallerOutcome ResolveNodeKnown();
}
