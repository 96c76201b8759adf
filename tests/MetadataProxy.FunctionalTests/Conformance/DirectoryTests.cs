using MetadataProxy.FunctionalTests.Infrastructure;

namespace MetadataProxy.FunctionalTests.Conformance;

/// <summary>Spec §3: discovery paths and directory semantics.</summary>
public sealed class DirectoryTests(ConformanceServer fixture) : IClassFixture<ConformanceServer>
{
    [Fact]
    public async Task D_1_ComputeMetadataRoot_ListsV1()
    {
        var (response, body) = await fixture.Client().GetWithBodyAsync("/computeMetadata/");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/text", response.ContentType());
        Assert.Equal("v1/\n", body);
    }

    [Fact]
    public async Task D_1_ComputeMetadataRootWithoutHeader_Is403()
    {
        using var response = await fixture.Client().GetAsync("/computeMetadata/", flavor: false);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task D_2_V1_ListsInstanceProjectUniverse()
    {
        var (response, body) = await fixture.Client().GetWithBodyAsync("/computeMetadata/v1/");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("instance/\nproject/\nuniverse/\n", body);
    }

    [Theory]
    [InlineData("/computeMetadata", "/computeMetadata/")]
    [InlineData("/computeMetadata/v1", "/computeMetadata/v1/")]
    [InlineData("/computeMetadata/v1/instance", "/computeMetadata/v1/instance/")]
    [InlineData("/computeMetadata/v1/instance/attributes?recursive=true", "/computeMetadata/v1/instance/attributes/?recursive=true")]
    [InlineData("/computeMetadata/v1/instance/service-accounts/default", "/computeMetadata/v1/instance/service-accounts/default/")]
    public async Task D_3_DirectoryWithoutSlash_Redirects301KeepingQuery(string path, string location)
    {
        var (response, body) = await fixture.Client().GetWithBodyAsync(path);
        Assert.Equal(HttpStatusCode.MovedPermanently, response.StatusCode);
        Assert.Equal(location, response.Headers.Location?.OriginalString);
        Assert.Equal(["Google"], response.Headers.GetValues("Metadata-Flavor"));
        Assert.StartsWith(location.Split('?')[0], body, StringComparison.Ordinal);
        Assert.EndsWith("\n", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task D_4_NodeDetection_FollowingRedirects_Ends200WithFlavor()
    {
        using var handler = new HttpClientHandler { AllowAutoRedirect = true, UseProxy = false };
        using var client = new HttpClient(handler) { BaseAddress = fixture.Server.MetadataUri };
        using var request = MetadataRequests.Get("/computeMetadata/v1/instance");
        using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["Google"], response.Headers.GetValues("Metadata-Flavor"));
    }

    [Fact]
    public async Task D_5_Project_ListsItsKeys()
    {
        var (_, body) = await fixture.Client().GetWithBodyAsync("/computeMetadata/v1/project/");
        Assert.Equal("attributes/\nnumeric-project-id\nproject-id\n", body);
    }

    [Fact]
    public async Task D_6_Instance_ListsGkeKeys()
    {
        var (_, body) = await fixture.Client().GetWithBodyAsync("/computeMetadata/v1/instance/");
        Assert.Equal("attributes/\nhostname\nid\nname\nservice-accounts/\nzone\n", body);
    }

    [Fact]
    public async Task D_7_EmptyDirectory_Is200WithEmptyBody()
    {
        var (response, body) = await fixture.Client().GetWithBodyAsync("/computeMetadata/v1/project/attributes/");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("", body);
    }

    [Theory]
    [InlineData("/computeMetadata/v1/project/project-id/")]
    [InlineData("/computeMetadata/v1/instance/zone/")]
    public async Task D_8_TrailingSlashOnLeaf_Is404(string path)
    {
        using var response = await fixture.Client().GetAsync(path, flavor: true);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Theory]
    [InlineData("/computeMetadata/v1/instance/service-accounts/default/scopes/0")]
    [InlineData("/computeMetadata/v1/project/project-id/x")]
    public async Task D_9_IndexingIntoValue_Is404(string path)
    {
        using var response = await fixture.Client().GetAsync(path, flavor: true);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Theory]
    [InlineData("/computeMetadata/v1/foo")]
    [InlineData("/computeMetadata/v1/project/bar")]
    [InlineData("/computeMetadata/v1/instance/disks/99")]
    [InlineData("/computeMetadata/v1/instance/disks/x")]
    [InlineData("/computeMetadata/v2/")]
    public async Task D_10_UnknownKey_Is404Html(string path)
    {
        using var response = await fixture.Client().GetAsync(path, flavor: true);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("text/html; charset=UTF-8", response.ContentType());
    }
}
