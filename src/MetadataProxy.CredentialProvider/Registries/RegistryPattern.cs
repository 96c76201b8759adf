using MetadataProxy.CredentialProvider.Cli;

namespace MetadataProxy.CredentialProvider.Registries;

/// <summary>
/// A key of the kubelet's auth map: host[:port][/path], where '*' in a host label matches within that one label
/// ("*.gcr.io" matches "eu.gcr.io", not "gcr.io" nor "a.b.gcr.io"), as the kubelet itself matches keys to images.
/// </summary>
internal sealed record RegistryPattern(string Text, string[] Labels, string? Port, string Path)
{
    public static Result<RegistryPattern> Parse(string text)
    {
        var trimmed = text.Trim();
        if (trimmed.Length == 0)
            return Failure.BadInput("a registry pattern is empty");
        if (trimmed.Contains("://", StringComparison.Ordinal))
            return Failure.BadInput($"registry pattern '{trimmed}' has a scheme; give host[:port][/path]");

        var slash = trimmed.IndexOf('/', StringComparison.Ordinal);
        var hostPort = slash < 0 ? trimmed : trimmed[..slash];
        var path = slash < 0 ? string.Empty : trimmed[slash..];
        var colon = hostPort.LastIndexOf(':');
        var host = colon < 0 ? hostPort : hostPort[..colon];
        var port = colon < 0 ? null : hostPort[(colon + 1)..];

        var labels = host.Split('.');
        if (labels.Any(label => label.Length == 0 || !label.All(IsLabelChar)))
            return Failure.BadInput($"registry pattern '{trimmed}' has an invalid host: use letters, digits, '-' and '*' in dot-separated labels");
        if (port is not null && (port.Length == 0 || !port.All(char.IsAsciiDigit)))
            return Failure.BadInput($"registry pattern '{trimmed}' has an invalid port");
        if (path.Any(c => char.IsWhiteSpace(c) || c == '*'))
            return Failure.BadInput($"registry pattern '{trimmed}' has an invalid path: no globs or spaces");

        return Result<RegistryPattern>.Success(new RegistryPattern(trimmed, labels, port, path));
    }

    /// <summary>Whether a registry host[:port] is covered, ignoring the pattern's path (a Docker server URL has none).</summary>
    public bool MatchesHost(string hostAndPort)
    {
        var colon = hostAndPort.LastIndexOf(':');
        var host = colon < 0 ? hostAndPort : hostAndPort[..colon];
        var port = colon < 0 ? null : hostAndPort[(colon + 1)..];
        if (Port is not null && Port != port)
            return false;

        var labels = host.Split('.');
        if (labels.Length != Labels.Length)
            return false;
        for (var i = 0; i < labels.Length; i++)
        {
            if (!LabelMatches(Labels[i], labels[i]))
                return false;
        }

        return true;
    }

    /// <summary>
    /// Whether an image is covered: its host[:port] as <see cref="MatchesHost"/>, and its path starting with the
    /// pattern's path, as the kubelet matches a key to an image (a plain prefix: "/team" also covers "/team-b/app").
    /// </summary>
    public bool MatchesImage(string hostAndPort, string pathAfterHost) =>
        MatchesHost(hostAndPort) && pathAfterHost.StartsWith(Path, StringComparison.Ordinal);

    private static bool IsLabelChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '-' or '*';

    /// <summary>Glob within one label; DNS names compare without regard to case.</summary>
    private static bool LabelMatches(string pattern, string label)
    {
        var star = pattern.IndexOf('*', StringComparison.Ordinal);
        if (star < 0)
            return string.Equals(pattern, label, StringComparison.OrdinalIgnoreCase);

        var prefix = pattern[..star];
        var rest = pattern[(star + 1)..];
        if (!label.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            return false;
        for (var start = prefix.Length; start <= label.Length; start++)
        {
            if (LabelMatches(rest, label[start..]))
                return true;
        }

        return false;
    }
}
