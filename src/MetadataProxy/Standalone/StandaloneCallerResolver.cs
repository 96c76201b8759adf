using System.Net;
using MetadataProxy.Identity;
using Microsoft.Extensions.Options;

namespace MetadataProxy.Standalone;

/// <summary>Standalone mode's "who is calling": the first configured range that holds the caller's address.</summary>
internal sealed class StandaloneCallerResolver(IOptionsMonitor<StandaloneOptions> options) : ICallerResolver
{
    public ValueTask<CallerOutcome> ResolveAsync(IPAddress remoteAddress, CancellationToken cancellationToken) =>
        ValueTask.FromResult(ResolveKnown(remoteAddress));

    public CallerOutcome ResolveKnown(IPAddress remoteAddress)
    {
        foreach (var identity in options.CurrentValue.Identities)
        {
            var ranges = (identity.Cidr ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            if (ranges.Any(r => IPNetwork.TryParse(r, out var network) && network.Contains(remoteAddress)))
            {
                var gsa = string.IsNullOrEmpty(identity.GoogleServiceAccount) ? null : identity.GoogleServiceAccount;
                var scopes = identity.Scopes is { Count: > 0 } s ? s : CallerIdentity.DefaultScopes;
                return new CallerOutcome.Resolved(new CallerIdentity(identity.Namespace, identity.ServiceAccount, gsa, scopes));
            }
        }

        return new CallerOutcome.NoIdentity(
            $"No identity is configured for {remoteAddress}: add a range that holds it to Standalone:Identities (for example Standalone:Identities:0:Cidr=127.0.0.0/8).");
    }

    // Standalone mode has no node socket (the listener options refuse one); should a request claim it anyway, it gets nothing.
    public ValueTask<CallerOutcome> ResolveNodeAsync(CancellationToken cancellationToken) => ValueTask.FromResult(ResolveNodeKnown());

    public CallerOutcome ResolveNodeKnown() => new CallerOutcome.Refused(CallerRefusal.HostNetwork, "Standalone mode serves no node identity.");
}
