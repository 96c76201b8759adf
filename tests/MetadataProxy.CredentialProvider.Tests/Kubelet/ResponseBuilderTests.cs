using MetadataProxy.CredentialProvider.Kubelet;
using MetadataProxy.CredentialProvider.Registries;
using MetadataProxy.CredentialProvider.Tokens;

namespace MetadataProxy.CredentialProvider.Tests.Kubelet;

public sealed class ResponseBuilderTests
{
    [Fact]
    public void Build_ImageOnAWildcardRegistry_PutsItsHostFirstThenThePatterns()
    {
        var response = ResponseBuilder.Build(ApiVersions.V1, "europe-docker.pkg.dev", Defaults(), new AccessToken("t", 3600));

        Assert.Equal(["europe-docker.pkg.dev", "*.pkg.dev", "gcr.io", "*.gcr.io", "container.cloud.google.com"], response.Auth.Keys);
        Assert.All(response.Auth.Values, auth => Assert.Equal(new AuthConfig("oauth2accesstoken", "t"), auth));
        Assert.Equal("55m0s", response.CacheDuration);
        Assert.Equal("Registry", response.CacheKeyType);
        Assert.Equal("CredentialProviderResponse", response.Kind);
        Assert.Equal(ApiVersions.V1, response.ApiVersion);
    }

    [Fact]
    public void Build_ImageOnAPatternHost_HasThatKeyOnce()
    {
        var response = ResponseBuilder.Build(ApiVersions.V1Beta1, "gcr.io", Defaults(), new AccessToken("t", 10));

        Assert.Equal(["gcr.io", "*.pkg.dev", "*.gcr.io", "container.cloud.google.com"], response.Auth.Keys);
        Assert.Equal("0s", response.CacheDuration);
        Assert.Equal(ApiVersions.V1Beta1, response.ApiVersion);
    }

    [Fact]
    public void ToString_Credentials_NeverShowsThePassword()
    {
        Assert.DoesNotContain("ya29.secret", new AuthConfig("oauth2accesstoken", "ya29.secret").ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("ya29.secret", new AccessToken("ya29.secret", 1).ToString(), StringComparison.Ordinal);
    }

    private static IReadOnlyList<RegistryPattern> Defaults() => RegistryPatterns.Build([], null).Value!;
}
