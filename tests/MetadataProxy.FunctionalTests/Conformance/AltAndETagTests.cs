using MetadataProxy.FunctionalTests.Infrastructure;

namespace MetadataProxy.FunctionalTests.Conformance;

/// <summary>Spec §3.2 (<c>alt</c>) and W-1 (ETags).</summary>
public sealed class AltAndETagTests(ConformanceServer fixture) : IClassFixture<ConformanceServer>
{
    [Fact]
    public async Task A_3_AltJsonOnString_IsJsonString()
    {
        var (response, body) = await fixture.Client().GetWithBodyAsync("/computeMetadata/v1/project/project-id?alt=json");
        Assert.Equal("application/json", response.ContentType());
        Assert.Equal("\"test-project\"", body);
    }

    [Fact]
    public async Task A_3_AltJsonOnNumber_IsJsonNumber()
    {
        var (_, body) = await fixture.Client().GetWithBodyAsync("/computeMetadata/v1/project/numeric-project-id?alt=json");
        Assert.Equal(Fixture.NumericProjectId, body);
    }

    [Fact]
    public async Task A_4_Scopes_AreTextLinesByDefaultAndArrayWithAltJson()
    {
        var (_, text) = await fixture.Client().GetWithBodyAsync("/computeMetadata/v1/instance/service-accounts/default/scopes");
        var (_, json) = await fixture.Client().GetWithBodyAsync("/computeMetadata/v1/instance/service-accounts/default/scopes?alt=json");
        Assert.Equal($"{Fixture.CloudPlatformScope}\n{Fixture.UserInfoEmailScope}\n", text);
        Assert.Equal($"[\"{Fixture.CloudPlatformScope}\",\"{Fixture.UserInfoEmailScope}\"]", json);
    }

    [Theory]
    [InlineData("/computeMetadata/v1/project/?alt=json")]
    [InlineData("/computeMetadata/v1/project/?alt=text")]
    public async Task A_5_AltOnDirectoryListing_Is400(string path)
    {
        using var response = await fixture.Client().GetAsync(path, flavor: true);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task A_5_UnknownAltValue_Is400WithReason()
    {
        var (response, body) = await fixture.Client().GetWithBodyAsync("/computeMetadata/v1/project/project-id?alt=xml");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("alt=json or alt=text", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_6_OneValueInThreeRenderings_HasOneETag()
    {
        var etags = new List<string?>();
        foreach (var query in new[] { "", "?alt=text", "?alt=json" })
        {
            using var response = await fixture.Client().GetAsync("/computeMetadata/v1/project/project-id" + query, flavor: true);
            etags.Add(response.Headers.ETag?.Tag ?? response.Single("ETag"));
        }

        Assert.Single(etags.Distinct());
    }

    [Fact]
    public async Task A_6_RecursiveAndPlainListings_HaveDifferentETags()
    {
        using var plain = await fixture.Client().GetAsync("/computeMetadata/v1/instance/attributes/", flavor: true);
        using var recursive = await fixture.Client().GetAsync("/computeMetadata/v1/instance/attributes/?recursive=true", flavor: true);
        Assert.NotEqual(plain.Single("ETag"), recursive.Single("ETag"));
    }

    [Theory]
    [InlineData("/computeMetadata/v1/project/project-id")]
    [InlineData("/computeMetadata/v1/instance/")]
    [InlineData("/computeMetadata/v1/?recursive=true")]
    [InlineData("/")]
    public async Task W_1_Every200_HasA16HexETag(string path)
    {
        using var response = await fixture.Client().GetAsync(path, flavor: true);
        Assert.Matches("^[0-9a-f]{16}$", response.Single("ETag"));
    }

    [Fact]
    public async Task W_1_ETag_IsDeterministic()
    {
        using var first = await fixture.Client().GetAsync("/computeMetadata/v1/instance/", flavor: true);
        using var second = await fixture.Client().GetAsync("/computeMetadata/v1/instance/", flavor: true);
        Assert.Equal(first.Single("ETag"), second.Single("ETag"));
    }
}
