using System.Net.Sockets;

namespace MetadataProxy.CredentialProvider.Tokens;

/// <summary>Where a token comes from: the node socket (HTTP over a Unix socket) or the metadata API over TCP.</summary>
internal sealed record TokenEndpoint(string Description, Uri BaseAddress, string? SocketPath)
{
    public const string SocketEnvironmentVariable = "METADATA_PROXY_SOCKET";
    public const string DefaultSocketPath = "/var/run/metadata-proxy/node.sock";
    public const string MetadataHostEnvironmentVariable = "GCE_METADATA_HOST";
    public const string DefaultMetadataHost = "metadata.google.internal";

    public static TokenEndpoint NodeSocket(string path) =>
        new($"the node socket {path}", new Uri("http://localhost/"), path);

    /// <summary>GCE_METADATA_HOST is host[:port], as every Google client library reads it.</summary>
    public static TokenEndpoint? MetadataApi(string? metadataHost)
    {
        var host = string.IsNullOrWhiteSpace(metadataHost) ? DefaultMetadataHost : metadataHost.Trim();
        if (!Uri.TryCreate($"http://{host}/", UriKind.Absolute, out var uri) || uri.AbsolutePath != "/" || host.Contains('/', StringComparison.Ordinal))
            return null;
        return new TokenEndpoint($"the metadata server {host}", uri, null);
    }

    public HttpClient CreateClient()
    {
        var handler = new SocketsHttpHandler
        {
            // The metadata API refuses proxied requests (X-Forwarded-For) and a socket has no proxy to go through.
            UseProxy = false,
            AllowAutoRedirect = false,
            UseCookies = false,
        };
        if (SocketPath is { } path)
        {
            handler.ConnectCallback = async (_, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            };
        }

        // The one deadline is the caller's cancellation token; HttpClient's own 100 s must not be shorter or longer.
        return new HttpClient(handler) { BaseAddress = BaseAddress, Timeout = Timeout.InfiniteTimeSpan };
    }
}
