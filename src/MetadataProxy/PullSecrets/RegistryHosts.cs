using System.Text.RegularExpressions;

namespace MetadataProxy.PullSecrets;

/// <summary>
/// The registry host patterns a pull Secret carries the token for: the gcr.io family by default (the kubelet
/// plugin's defaults without <c>*.pkg.dev</c>: Artifact Registry hosts are named, so a token goes only where it is
/// meant to), plus named hosts. A pattern is a host with an optional port; <c>*</c> stands for one whole DNS label,
/// as in the kubelet's matching of dockerconfigjson keys.
/// </summary>
internal static partial class RegistryHosts
{
    public static readonly IReadOnlyList<string> GcrFamily = ["gcr.io", "*.gcr.io", "container.cloud.google.com"];

    private const int MaxPatterns = 32;

    /// <summary>The distinct patterns of a ',' or ';' separated list (empty for none), or null and the problem.</summary>
    public static IReadOnlyList<string>? Parse(string? text, out string? problem)
    {
        problem = null;
        var patterns = new List<string>();
        foreach (var item in (text ?? "").Split([',', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var pattern = item.ToLowerInvariant();
            if (!PatternRegex().IsMatch(pattern) || pattern.Length > 253)
            {
                problem = $"'{item}' is not a registry host pattern (a host name such as europe-docker.pkg.dev, optionally with a port; '*' only as a whole label)";
                return null;
            }

            if (!pattern.Contains('.', StringComparison.Ordinal))
            {
                problem = $"'{item}' is not a registry host (a name with its domain, such as europe-docker.pkg.dev)";
                return null;
            }

            if (pattern.Split(':')[0].Split('.').All(label => label == "*"))
            {
                problem = $"'{item}' would match registries of anyone: name at least the registry's domain (such as *.pkg.dev's europe-docker.pkg.dev)";
                return null;
            }

            if (!patterns.Contains(pattern))
                patterns.Add(pattern);
        }

        if (patterns.Count > MaxPatterns)
        {
            problem = $"{patterns.Count} patterns are more than {MaxPatterns}";
            return null;
        }

        return patterns;
    }

    [GeneratedRegex(@"^(\*|[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.(\*|[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?))*(:[0-9]{1,5})?$", RegexOptions.CultureInvariant)]
    private static partial Regex PatternRegex();
}
