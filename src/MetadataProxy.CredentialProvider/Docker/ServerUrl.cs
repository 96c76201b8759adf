namespace MetadataProxy.CredentialProvider.Docker;

/// <summary>The registry host[:port] in what Docker, containerd or nerdctl pass as a server URL ("https://gcr.io/v2/", "us-docker.pkg.dev").</summary>
internal static class ServerUrl
{
    public static string Host(string serverUrl)
    {
        var rest = serverUrl.Trim();
        var scheme = rest.IndexOf("://", StringComparison.Ordinal);
        if (scheme >= 0)
            rest = rest[(scheme + 3)..];
        var end = rest.IndexOfAny(['/', '?', '#']);
        if (end >= 0)
            rest = rest[..end];
        var at = rest.LastIndexOf('@');
        if (at >= 0)
            rest = rest[(at + 1)..];
        return rest.ToLowerInvariant();
    }
}
