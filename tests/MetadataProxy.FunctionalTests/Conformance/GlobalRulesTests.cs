using MetadataProxy.FunctionalTests.Infrastructure;

namespace MetadataProxy.FunctionalTests.Conformance;

/// <summary>Spec §1 and §2: transport and the rules every request follows.</summary>
public sealed class GlobalRulesTests(ConformanceServer fixture) : IClassFixture<ConformanceServer>
{
    private const string ProjectIdPath = "/computeMetadata/v1/project/project-id";

    [Fact]
    public async Task G_1_ProjectIdWithHeader_ReturnsProjectId()
    {
        var (response, body) = await fixture.Client().GetWithBodyAsync(ProjectIdPath);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Fixture.ProjectId, body);
    }

    [Fact]
    public async Task G_2_ProjectIdWithoutHeader_Is403WithGceSentence()
    {
        var (response, body) = await fixture.Client().GetWithBodyAsync(ProjectIdPath, flavor: false);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("Missing Metadata-Flavor:Google header.", body, StringComparison.Ordinal);
        Assert.Equal("text/html; charset=UTF-8", response.ContentType());
    }

    [Theory]
    [InlineData("Something-Else")]
    [InlineData("google")]
    [InlineData("")]
    public async Task G_3_WrongFlavorValue_Is403(string value)
    {
        using var request = MetadataRequests.Get(ProjectIdPath, flavor: false);
        request.Headers.TryAddWithoutValidation("Metadata-Flavor", value);
        using var response = await fixture.Client().SendAsync(request, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Theory]
    [InlineData("True")]
    [InlineData("true")]
    [InlineData("TRUE")]
    public async Task G_4_LegacyRequestHeader_IsAccepted(string value)
    {
        using var request = MetadataRequests.Get(ProjectIdPath, flavor: false);
        request.Headers.Add("X-Google-Metadata-Request", value);
        using var response = await fixture.Client().SendAsync(request, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Fixture.ProjectId, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    [Theory]
    [InlineData("/")]
    [InlineData(ProjectIdPath)]
    [InlineData("/computeMetadata/v1/instance/service-accounts/default/token")]
    [InlineData("/computeMetadata/v1/instance/attributes/kube-env")]
    [InlineData("/no/such/path")]
    public async Task G_5_ForwardedFor_IsForbiddenOnEveryPath(string path)
    {
        using var request = MetadataRequests.Get(path);
        request.Headers.Add("X-Forwarded-For", "10.0.0.1");
        using var response = await fixture.Client().SendAsync(request, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("Forbidden", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task G_6_G_7_Root_AnswersWithFlavorWhetherOrNotAsked(bool flavor)
    {
        var (response, body) = await fixture.Client().GetWithBodyAsync("/", flavor);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("computeMetadata/\n", body);
        Assert.Equal("application/text", response.ContentType());
        Assert.Equal(["Google"], response.Headers.GetValues("Metadata-Flavor"));
    }

    [Theory]
    [InlineData("/computeMetadata/v1/project/project-id")]
    [InlineData("/computeMetadata/v1/instance")]
    [InlineData("/computeMetadata/v1/instance/")]
    [InlineData("/computeMetadata/v1/?recursive=true")]
    [InlineData("/computeMetadata/v1/instance/service-accounts/default/?recursive=true")]
    [InlineData("/computeMetadata/v1/no-such-key")]
    public async Task G_8_G_9_EveryResponse_CarriesExactlyOneFlavorHeader(string path)
    {
        using var response = await fixture.Client().GetAsync(path, flavor: true);
        Assert.Equal(["Google"], response.Headers.GetValues("Metadata-Flavor"));
    }

    [Fact]
    public async Task G_10_Responses_CarryServerAndGceHeaders()
    {
        using var response = await fixture.Client().GetAsync("/", flavor: false);
        Assert.Equal("GKE Metadata Server", response.Headers.Server.ToString());
        Assert.Equal("0", response.Single("X-XSS-Protection"));
        Assert.Equal("SAMEORIGIN", response.Single("X-Frame-Options"));
        Assert.NotNull(response.Headers.Date);
    }

    [Theory]
    [InlineData("/computeMetadata/v1/project/project-id", "application/text")]
    [InlineData("/computeMetadata/v1/project/", "application/text")]
    [InlineData("/computeMetadata/v1/?recursive=true", "application/json")]
    [InlineData("/computeMetadata/v1/project/project-id?alt=json", "application/json")]
    [InlineData("/computeMetadata/v1/instance/service-accounts/default/scopes", "application/text")]
    public async Task G_11_G_12_G_13_ContentTypes_AreExactWithoutCharset(string path, string contentType)
    {
        using var response = await fixture.Client().GetAsync(path, flavor: true);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(contentType, response.ContentType());
    }

    [Theory]
    [InlineData("/computeMetadata/v1/project/project-id", Fixture.ProjectId)]
    [InlineData("/computeMetadata/v1/project/numeric-project-id", Fixture.NumericProjectId)]
    [InlineData("/computeMetadata/v1/instance/service-accounts/default/email", Fixture.AppServiceAccount)]
    public async Task G_14_LeafValues_HaveNoTrailingNewline(string path, string expected)
    {
        var (_, body) = await fixture.Client().GetWithBodyAsync(path);
        Assert.Equal(expected, body);
    }

    [Theory]
    [InlineData("?foo=blah")]
    [InlineData("?bindCertificateFingerprint=abc")]
    [InlineData("?transport=mtls&binding-enforcement=on")]
    [InlineData("?transport=alts")]
    public async Task G_15_UnknownQueryParameters_AreIgnored(string query)
    {
        var (response, body) = await fixture.Client().GetWithBodyAsync(ProjectIdPath + query);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Fixture.ProjectId, body);
    }

    [Theory]
    [InlineData("True")]
    [InlineData("TRUE")]
    [InlineData("true")]
    public async Task G_17_RecursiveTrue_IsCaseInsensitive(string value)
    {
        using var response = await fixture.Client().GetAsync($"/computeMetadata/v1/project/?recursive={value}", flavor: true);
        Assert.Equal("application/json", response.ContentType());
    }

    [Theory]
    [InlineData("xyz")]
    [InlineData("1")]
    [InlineData("")]
    public async Task G_17_RecursiveOtherValues_MeanFalse(string value)
    {
        var (response, body) = await fixture.Client().GetWithBodyAsync($"/computeMetadata/v1/project/?recursive={value}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("attributes/\nnumeric-project-id\nproject-id\n", body);
    }

    [Theory]
    [InlineData("/computeMetadata/v1/project//project-id")]
    [InlineData("/computeMetadata//v1/project/project-id")]
    [InlineData("/computeMetadata/v1/project/./project-id")]
    [InlineData("/computeMetadata/v1/instance/../project/project-id")]
    public async Task G_18_PathsAreNormalised_BeforeServing(string path)
    {
        var (response, body) = await fixture.Client().GetWithBodyAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Fixture.ProjectId, body);
    }

    [Theory]
    [InlineData("/computeMetadata/v1/instance/attributes/../attributes/kube-env")]
    [InlineData("/computeMetadata/v1/instance/attributes//kube-env")]
    [InlineData("/computeMetadata/v1/instance/./attributes/kube-env")]
    [InlineData("/computeMetadata/v1/project/../instance/attributes/kube-env")]
    public async Task G_18_NormalisationHappensBeforeConcealment(string path)
    {
        var (response, body) = await fixture.Client().GetWithBodyAsync(path);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode); // AT-5, GKE profile
        Assert.Contains("This metadata endpoint is concealed.", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task G_19_PercentEncodedAtInEmail_IsDecoded()
    {
        var (response, body) = await fixture.Client().GetWithBodyAsync("/computeMetadata/v1/instance/service-accounts/app%40test-project.iam.gserviceaccount.com/email");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Fixture.AppServiceAccount, body);
    }

    [Theory]
    [InlineData("POST")]
    [InlineData("PUT")]
    [InlineData("DELETE")]
    [InlineData("PATCH")]
    [InlineData("OPTIONS")]
    public async Task G_20_MethodsOtherThanGetAndHead_Are405(string method)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), ProjectIdPath);
        request.Headers.Add("Metadata-Flavor", "Google");
        using var response = await fixture.Client().SendAsync(request, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.Contains("GET", response.Content.Headers.Allow);
    }

    [Fact]
    public async Task G_20_Head_AnswersHeadersWithLengthAndNoBody()
    {
        using var request = new HttpRequestMessage(HttpMethod.Head, ProjectIdPath);
        request.Headers.Add("Metadata-Flavor", "Google");
        using var response = await fixture.Client().SendAsync(request, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Fixture.ProjectId.Length, response.Content.Headers.ContentLength);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken));
    }

    [Theory]
    [InlineData("metadata.google.internal")]
    [InlineData("metadata.google.internal.")]
    [InlineData("169.254.169.254")]
    [InlineData("metadata")]
    [InlineData("metadata.goog")]
    [InlineData("example.com:8080")]
    public async Task T_3_AnyHostHeader_IsAccepted(string host)
    {
        using var request = MetadataRequests.Get(ProjectIdPath);
        request.Headers.Host = host;
        using var response = await fixture.Client().SendAsync(request, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData("/computeMetadata/v1/?recursive=true")]
    [InlineData("/computeMetadata/v1/project/project-id")]
    [InlineData("/computeMetadata/v1/instance/")]
    public async Task T_5_Responses_HaveContentLengthAndAreNotChunked(string path)
    {
        using var response = await fixture.Client().GetAsync(path, flavor: true);
        var body = await response.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken);
        Assert.Equal(body.Length, response.Content.Headers.ContentLength);
        Assert.NotEqual(true, response.Headers.TransferEncodingChunked);
    }

    [Fact]
    public async Task T_5_KeepAlive_ServesSeveralRequestsOnOneConnection()
    {
        using var client = fixture.Client();
        for (var i = 0; i < 3; i++)
        {
            using var response = await client.GetAsync(ProjectIdPath, flavor: true);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.NotEqual(true, response.Headers.ConnectionClose);
        }
    }
}
