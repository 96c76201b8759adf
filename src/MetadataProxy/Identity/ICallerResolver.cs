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
}
