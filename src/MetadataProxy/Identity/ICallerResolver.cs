using System.Net;

namespace MetadataProxy.Identity;

internal interface ICallerResolver
{
    /// <summary>Who is calling from <paramref name="remoteAddress"/>, the socket's own peer address.</summary>
    ValueTask<CallerOutcome> ResolveAsync(IPAddress remoteAddress, CancellationToken cancellationToken);
}
