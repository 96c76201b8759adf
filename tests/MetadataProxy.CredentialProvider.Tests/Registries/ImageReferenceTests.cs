using MetadataProxy.CredentialProvider.Registries;

namespace MetadataProxy.CredentialProvider.Tests.Registries;

public sealed class ImageReferenceTests
{
    [Theory]
    [InlineData("gcr.io/p/i:tag", "gcr.io")]
    [InlineData("eu.gcr.io/p/i", "eu.gcr.io")]
    [InlineData("us-docker.pkg.dev/p/r/i@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "us-docker.pkg.dev")]
    [InlineData("us-docker.pkg.dev/p/r/i:tag@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "us-docker.pkg.dev")]
    [InlineData("localhost:5000/x", "localhost:5000")]
    [InlineData("localhost/x", "localhost")]
    [InlineData("registry.example.com:8443/team/app:1.2", "registry.example.com:8443")]
    [InlineData("10.0.0.5:5000/app", "10.0.0.5:5000")]
    [InlineData("Registry/app", "Registry")]
    [InlineData("nginx", "docker.io")]
    [InlineData("nginx:1.27", "docker.io")]
    [InlineData("nginx@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "docker.io")]
    [InlineData("library/nginx:latest", "docker.io")]
    [InlineData("bitnami/redis", "docker.io")]
    [InlineData("docker.io/library/nginx", "docker.io")]
    [InlineData("index.docker.io/library/nginx", "docker.io")]
    public void RegistryHost_Reference_IsTheRegistryWithItsPort(string image, string expected)
    {
        var host = ImageReference.RegistryHost(image);

        Assert.True(host.Succeeded);
        Assert.Equal(expected, host.Value);
    }

    [Theory]
    [InlineData("gcr.io/p/i:tag", "/p/i:tag")]
    [InlineData("registry.example.com:8443/team/app:1.2", "/team/app:1.2")]
    [InlineData("localhost/x", "/x")]
    [InlineData("bitnami/redis", "/bitnami/redis")]
    [InlineData("nginx", "/nginx")]
    public void PathAfterHost_Reference_IsWhatFollowsTheRegistry(string image, string expected) =>
        Assert.Equal(expected, ImageReference.PathAfterHost(image));

    [Theory]
    [InlineData("", "empty")]
    [InlineData("   ", "empty")]
    [InlineData("gcr.io/p/i tag", "white space")]
    [InlineData("/p/i", "starts with '/'")]
    public void RegistryHost_Malformed_IsBadInput(string image, string expected)
    {
        var host = ImageReference.RegistryHost(image);

        Assert.False(host.Succeeded);
        Assert.Equal(2, host.Failure.ExitCode);
        Assert.Contains(expected, host.Failure.Message, StringComparison.Ordinal);
    }
}
