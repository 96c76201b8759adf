using System.Security.Cryptography;

namespace MetadataProxy.Upstream;

/// <summary>
/// A random value this process puts on every answer when the passthrough is on: an upstream that answers with it is
/// this very server (a loop), whatever address or DNAT rule brought the request back.
/// </summary>
internal sealed class ServerMarker
{
    public const string Header = "Metadata-Proxy-Instance";

    public string Value { get; } = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    public bool IsOn(HttpResponseMessage response) =>
        response.Headers.TryGetValues(Header, out var values) && values.Contains(Value, StringComparer.Ordinal);
}
