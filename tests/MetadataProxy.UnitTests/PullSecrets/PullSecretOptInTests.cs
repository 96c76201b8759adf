using MetadataProxy.PullSecrets;

namespace MetadataProxy.UnitTests.PullSecrets;

public sealed class PullSecretOptInTests
{
    private static readonly IReadOnlyList<string> Configured = ["europe-docker.pkg.dev"];

    [Theory]
    [InlineData(null)]
    [InlineData("false")]
    [InlineData(" False ")]
    public void Read_AbsentOrFalse_IsAbsent(string? value)
    {
        var annotations = value is null ? new Dictionary<string, string>() : new Dictionary<string, string> { [PullSecretOptIn.AnnotationKey] = value };

        Assert.IsType<PullSecretOptIn.Absent>(PullSecretOptIn.Read(annotations, Configured));
    }

    [Fact]
    public void Read_True_IsTheGcrFamilyAndTheConfiguredHosts()
    {
        var wanted = Assert.IsType<PullSecretOptIn.Wanted>(PullSecretOptIn.Read(new Dictionary<string, string> { [PullSecretOptIn.AnnotationKey] = "true" }, Configured));

        Assert.Equal(["gcr.io", "*.gcr.io", "container.cloud.google.com", "europe-docker.pkg.dev"], wanted.Hosts);
    }

    [Fact]
    public void Read_List_IsExactlyThoseHostsLowercasedOnce()
    {
        var wanted = Assert.IsType<PullSecretOptIn.Wanted>(PullSecretOptIn.Read(
            new Dictionary<string, string> { [PullSecretOptIn.AnnotationKey] = "US-docker.pkg.dev, us-docker.pkg.dev,registry.example:5000" }, Configured));

        Assert.Equal(["us-docker.pkg.dev", "registry.example:5000"], wanted.Hosts);
    }

    [Theory]
    [InlineData("yes", "'yes' is not a registry host")]
    [InlineData("*", "'*' is not a registry host")]
    [InlineData("*.*", "'*.*' would match registries of anyone")]
    [InlineData("europe-docker.pkg.dev/project", "'europe-docker.pkg.dev/project' is not a registry host pattern")]
    [InlineData("eu*.pkg.dev", "'eu*.pkg.dev' is not a registry host pattern")]
    [InlineData("https://gcr.io", "'https://gcr.io' is not a registry host pattern")]
    [InlineData(" , ", "must be \"true\", \"false\" or a comma list")]
    public void Read_Invalid_SaysWhy(string value, string expected)
    {
        var invalid = Assert.IsType<PullSecretOptIn.Invalid>(PullSecretOptIn.Read(new Dictionary<string, string> { [PullSecretOptIn.AnnotationKey] = value }, Configured));

        Assert.Contains(expected, invalid.Problem, StringComparison.Ordinal);
    }
}
