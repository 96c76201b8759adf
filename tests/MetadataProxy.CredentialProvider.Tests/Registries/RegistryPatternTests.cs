using MetadataProxy.CredentialProvider.Registries;

namespace MetadataProxy.CredentialProvider.Tests.Registries;

public sealed class RegistryPatternTests
{
    [Theory]
    [InlineData("*.pkg.dev", "us-docker.pkg.dev", true)]
    [InlineData("*.pkg.dev", "europe-west1-docker.pkg.dev", true)]
    [InlineData("*.pkg.dev", "pkg.dev", false)]
    [InlineData("*.pkg.dev", "a.b.pkg.dev", false)]
    [InlineData("*.pkg.dev", "us-docker.pkg.dev.evil.com", false)]
    [InlineData("gcr.io", "gcr.io", true)]
    [InlineData("gcr.io", "GCR.IO", true)]
    [InlineData("gcr.io", "gcr.io:443", true)]
    [InlineData("gcr.io", "evilgcr.io", false)]
    [InlineData("*.gcr.io", "eu.gcr.io", true)]
    [InlineData("*.gcr.io", "gcr.io", false)]
    [InlineData("container.cloud.google.com", "container.cloud.google.com", true)]
    [InlineData("us-*.pkg.dev", "us-docker.pkg.dev", true)]
    [InlineData("us-*.pkg.dev", "eu-docker.pkg.dev", false)]
    [InlineData("registry.example.com:5000", "registry.example.com:5000", true)]
    [InlineData("registry.example.com:5000", "registry.example.com", false)]
    [InlineData("registry.example.com:5000", "registry.example.com:5001", false)]
    [InlineData("registry.example.com/team", "registry.example.com", true)]
    public void MatchesHost_Table_FollowsTheKubeletsGlobRules(string pattern, string host, bool expected)
    {
        var parsed = RegistryPattern.Parse(pattern);

        Assert.True(parsed.Succeeded);
        Assert.Equal(expected, parsed.Value.MatchesHost(host));
    }

    [Theory]
    [InlineData("*.pkg.dev", "us-docker.pkg.dev", "/p/r/i:1", true)]
    [InlineData("*.pkg.dev", "ghcr.io", "/org/app:1", false)]
    [InlineData("registry.example.com/team", "registry.example.com", "/team/app:1", true)]
    [InlineData("registry.example.com/team", "registry.example.com", "/other/app:1", false)]
    [InlineData("registry.example.com/team", "registry.example.com", "/team-b/app:1", true)] // the kubelet's plain prefix
    [InlineData("registry.example.com/team", "other.example.com", "/team/app:1", false)]
    [InlineData("registry.example.com:5000", "registry.example.com:5000", "/app", true)]
    [InlineData("registry.example.com:5000", "registry.example.com", "/app", false)]
    public void MatchesImage_Table_NeedsTheHostAndThePathPrefix(string pattern, string host, string path, bool expected)
    {
        var parsed = RegistryPattern.Parse(pattern);

        Assert.True(parsed.Succeeded);
        Assert.Equal(expected, parsed.Value.MatchesImage(host, path));
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("https://gcr.io", "scheme")]
    [InlineData("gcr..io", "invalid host")]
    [InlineData("gcr.io:", "invalid port")]
    [InlineData("gcr.io:https", "invalid port")]
    [InlineData("gcr_io", "invalid host")]
    [InlineData("gcr.io/a*b", "invalid path")]
    public void Parse_Malformed_IsBadInputNamingTheProblem(string pattern, string expected)
    {
        var parsed = RegistryPattern.Parse(pattern);

        Assert.False(parsed.Succeeded);
        Assert.Equal(2, parsed.Failure.ExitCode);
        Assert.Contains(expected, parsed.Failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_ArgumentsAndEnvironment_FollowGoogleDefaultsWithoutDuplicates()
    {
        var patterns = RegistryPatterns.Build(["registry.example.com", "gcr.io"], " mirror.example.com:5000 , ,registry.example.com");

        Assert.True(patterns.Succeeded);
        Assert.Equal(
            ["*.pkg.dev", "gcr.io", "*.gcr.io", "container.cloud.google.com", "registry.example.com", "mirror.example.com:5000"],
            patterns.Value.Select(p => p.Text));
    }

    [Fact]
    public void Build_InvalidEnvironmentPattern_IsBadInput()
    {
        var patterns = RegistryPatterns.Build([], "gcr.io,https://bad");

        Assert.False(patterns.Succeeded);
        Assert.Contains("https://bad", patterns.Failure.Message, StringComparison.Ordinal);
    }
}
