using MetadataProxy.CredentialProvider.Docker;

namespace MetadataProxy.CredentialProvider.Tests.Docker;

public sealed class ServerUrlTests
{
    [Theory]
    [InlineData("gcr.io", "gcr.io")]
    [InlineData("https://gcr.io", "gcr.io")]
    [InlineData("https://gcr.io/v2/", "gcr.io")]
    [InlineData("  us-docker.pkg.dev\n", "us-docker.pkg.dev")]
    [InlineData("https://US-Docker.pkg.dev/p/r", "us-docker.pkg.dev")]
    [InlineData("http://localhost:5000", "localhost:5000")]
    [InlineData("https://index.docker.io/v1/", "index.docker.io")]
    [InlineData("https://user@gcr.io/", "gcr.io")]
    [InlineData("gcr.io?x=1", "gcr.io")]
    [InlineData("https://", "")]
    public void Host_ServerUrl_IsLowerCaseHostWithPort(string serverUrl, string expected) =>
        Assert.Equal(expected, ServerUrl.Host(serverUrl));
}
