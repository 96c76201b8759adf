using System.Text.Json;
using MetadataProxy.FunctionalTests.Infrastructure;

namespace MetadataProxy.FunctionalTests.Conformance;

/// <summary>Spec §3.1: <c>?recursive=true</c>.</summary>
public sealed class RecursiveTests(ConformanceServer fixture) : IClassFixture<ConformanceServer>
{
    private const string ExpectedServiceAccount =
        """{"aliases":["default"],"email":"app@test-project.iam.gserviceaccount.com","scopes":["https://www.googleapis.com/auth/cloud-platform","https://www.googleapis.com/auth/userinfo.email"]}""";

    [Theory]
    [InlineData("default")]
    [InlineData(Fixture.AppServiceAccount)]
    public async Task R_1_R_2_ServiceAccountRecursive_IsJsonWithoutTokenOrIdentity(string account)
    {
        var (response, body) = await fixture.Client().GetWithBodyAsync($"/computeMetadata/v1/instance/service-accounts/{account}/?recursive=true");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.ContentType());
        Assert.Equal(ExpectedServiceAccount, body);
    }

    [Fact]
    public async Task R_3_RootRecursive_HasGaxShapeAndContentLength()
    {
        var (response, body) = await fixture.Client().GetWithBodyAsync("/computeMetadata/v1/?recursive=true");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.ContentType());
        Assert.True(response.Content.Headers.ContentLength is > 0 and < 524288);
        using var json = JsonDocument.Parse(body);
        var root = json.RootElement;
        Assert.Equal(Fixture.ProjectId, root.GetProperty("project").GetProperty("projectId").GetString());
        Assert.Equal(Fixture.Zone, root.GetProperty("instance").GetProperty("zone").GetString());
        Assert.Equal(Fixture.ClusterName, root.GetProperty("instance").GetProperty("attributes").GetProperty("cluster-name").GetString());
        Assert.Equal(Fixture.ClusterLocation, root.GetProperty("instance").GetProperty("attributes").GetProperty("cluster-location").GetString());
        Assert.Equal(ExpectedServiceAccount, root.GetProperty("instance").GetProperty("serviceAccounts").GetProperty("default").GetRawText());
        Assert.Equal(ExpectedServiceAccount, root.GetProperty("instance").GetProperty("serviceAccounts").GetProperty(Fixture.AppServiceAccount).GetRawText());
        Assert.Equal("googleapis.com", root.GetProperty("universe").GetProperty("universeDomain").GetString());
    }

    [Fact]
    public async Task R_4_Numbers_KeepFullPrecision()
    {
        var (_, body) = await fixture.Client().GetWithBodyAsync("/computeMetadata/v1/?recursive=true");
        Assert.Contains($"\"id\":{Fixture.InstanceId}", body, StringComparison.Ordinal);
        Assert.Contains($"\"numericProjectId\":{Fixture.NumericProjectId}", body, StringComparison.Ordinal);
        using var json = JsonDocument.Parse(body);
        Assert.Equal(ulong.Parse(Fixture.InstanceId, System.Globalization.CultureInfo.InvariantCulture), json.RootElement.GetProperty("instance").GetProperty("id").GetUInt64());
    }

    [Fact]
    public async Task R_5_RecursiveWithAndWithoutSlash_GiveTheSameJson()
    {
        using var handler = new HttpClientHandler { AllowAutoRedirect = true, UseProxy = false };
        using var client = new HttpClient(handler) { BaseAddress = fixture.Server.MetadataUri };
        var (_, withoutSlash) = await client.GetWithBodyAsync("/computeMetadata/v1/instance/attributes?recursive=true");
        var (_, withSlash) = await fixture.Client().GetWithBodyAsync("/computeMetadata/v1/instance/attributes/?recursive=true");
        Assert.Equal(withSlash, withoutSlash);
    }

    [Fact]
    public async Task R_6_RecursiveOnLeaf_IsThePlainValue()
    {
        var (response, body) = await fixture.Client().GetWithBodyAsync("/computeMetadata/v1/project/numeric-project-id?recursive=true");
        Assert.Equal("application/text", response.ContentType());
        Assert.Equal(Fixture.NumericProjectId, body);
    }

    [Fact]
    public async Task R_8_RecursiveText_IsOneLinePerLeaf()
    {
        var (response, body) = await fixture.Client().GetWithBodyAsync("/computeMetadata/v1/instance/service-accounts/default/?recursive=true&alt=text");
        Assert.Equal("application/text", response.ContentType());
        Assert.Equal(
            "aliases default\nemail app@test-project.iam.gserviceaccount.com\n" +
            $"scopes {Fixture.CloudPlatformScope}\nscopes {Fixture.UserInfoEmailScope}\n", body);
    }

    [Fact]
    public async Task R_8_RecursiveTextOfInstance_UsesRelativePaths()
    {
        var (_, body) = await fixture.Client().GetWithBodyAsync("/computeMetadata/v1/instance/?recursive=true&alt=text");
        Assert.Contains($"attributes/cluster-name {Fixture.ClusterName}\n", body, StringComparison.Ordinal);
        Assert.Contains($"service-accounts/default/scopes {Fixture.CloudPlatformScope}\n", body, StringComparison.Ordinal);
        Assert.Contains($"id {Fixture.InstanceId}\n", body, StringComparison.Ordinal);
        Assert.DoesNotContain("token", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TK_11_RecursiveListings_NeverContainTokenOrIdentity()
    {
        var (_, body) = await fixture.Client().GetWithBodyAsync("/computeMetadata/v1/?recursive=true");
        Assert.DoesNotContain("\"token\"", body, StringComparison.Ordinal);
        Assert.DoesNotContain("\"identity\"", body, StringComparison.Ordinal);
    }
}
