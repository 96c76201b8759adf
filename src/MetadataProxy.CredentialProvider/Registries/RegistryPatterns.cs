using MetadataProxy.CredentialProvider.Cli;

namespace MetadataProxy.CredentialProvider.Registries;

/// <summary>The registries that get a Google token: Google's own, plus the operator's extras.</summary>
internal static class RegistryPatterns
{
    public const string EnvironmentVariable = "METADATA_PROXY_REGISTRIES";

    /// <summary>Artifact Registry, Container Registry and the GKE-images registry: where a Google access token is a password.</summary>
    public static readonly IReadOnlyList<string> GoogleDefaults = ["*.pkg.dev", "gcr.io", "*.gcr.io", "container.cloud.google.com"];

    /// <summary>Google's registries, then every --registry argument, then METADATA_PROXY_REGISTRIES (comma-separated).</summary>
    public static Result<IReadOnlyList<RegistryPattern>> Build(IEnumerable<string> arguments, string? environment)
    {
        var fromEnvironment = (environment ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var patterns = new List<RegistryPattern>();
        foreach (var text in GoogleDefaults.Concat(arguments).Concat(fromEnvironment))
        {
            var pattern = RegistryPattern.Parse(text);
            if (!pattern.Succeeded)
                return pattern.Failure;
            if (!patterns.Any(p => p.Text == pattern.Value.Text))
                patterns.Add(pattern.Value);
        }

        return Result<IReadOnlyList<RegistryPattern>>.Success(patterns);
    }
}
