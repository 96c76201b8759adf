using System.Globalization;
using System.Text.RegularExpressions;

namespace MetadataProxy.Benchmarks.Floors;

/// <summary>
/// The server's metadata and admin listeners on loopback port 0, and the ports it reports once bound. A port chosen
/// before the start could be taken meanwhile by another process; in Kubernetes mode (SO_REUSEPORT) even by another
/// server of the same user, without any error, and the measured load would then be shared with it. The admin
/// listener is on 127.0.0.2 so that its "Now listening on" line is never taken for the metadata one.
/// </summary>
internal static partial class ServerListeners
{
    public static IReadOnlyList<string> Arguments { get; } =
    [
        "--Listen:Metadata=http://127.0.0.1:0", "--Listen:Admin=http://127.0.0.2:0",
        "--Logging:LogLevel:Microsoft.Hosting.Lifetime=Information", // its "Now listening on" lines, also under Default=Warning
    ];

    /// <summary>The metadata port and the admin base URL, as the server reports them (after both are bound).</summary>
    public static async Task<(int MetadataPort, Uri Admin)> ReadAsync(PinnedProcess server, TimeSpan timeout)
    {
        var metadataPort = await LoopbackPortAsync(server, timeout);
        var admin = await server.WaitForLineAsync(AdminListening(), timeout);
        return (metadataPort, new Uri(admin.Groups["url"].Value + "/"));
    }

    /// <summary>The port of the first "Now listening on: http://127.0.0.1:PORT" line (the server's metadata listener, or a floor's).</summary>
    public static async Task<int> LoopbackPortAsync(PinnedProcess server, TimeSpan timeout)
    {
        var line = await server.WaitForLineAsync(LoopbackListening(), timeout);
        return int.Parse(line.Groups["port"].Value, CultureInfo.InvariantCulture);
    }

    [GeneratedRegex(@"Now listening on: http://127\.0\.0\.1:(?<port>[0-9]+)\b")]
    private static partial Regex LoopbackListening();

    [GeneratedRegex(@"Now listening on: (?<url>http://127\.0\.0\.2:[0-9]+)\b")]
    private static partial Regex AdminListening();
}
