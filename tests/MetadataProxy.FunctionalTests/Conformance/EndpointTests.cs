using MetadataProxy.FunctionalTests.Infrastructure;

namespace MetadataProxy.FunctionalTests.Conformance;

/// <summary>Spec §4 (endpoint catalogue), §6 (legacy) and WI-2 for the caller-independent and per-caller values.</summary>
public sealed class EndpointTests(ConformanceServer fixture) : IClassFixture<ConformanceServer>
{
    [Theory]
    [InlineData("/computeMetadata/v1/project/project-id", Fixture.ProjectId)] // P-1
    [InlineData("/computeMetadata/v1/project/numeric-project-id", Fixture.NumericProjectId)] // P-2
    [InlineData("/computeMetadata/v1/instance/id", Fixture.InstanceId)] // I-1
    [InlineData("/computeMetadata/v1/instance/zone", Fixture.Zone)] // I-2
    [InlineData("/computeMetadata/v1/instance/hostname", Fixture.Hostname)] // I-3
    [InlineData("/computeMetadata/v1/instance/name", Fixture.InstanceName)] // I-4
    [InlineData("/computeMetadata/v1/instance/attributes/cluster-name", Fixture.ClusterName)] // AT-2
    [InlineData("/computeMetadata/v1/instance/attributes/cluster-location", Fixture.ClusterLocation)] // AT-3
    [InlineData("/computeMetadata/v1/instance/attributes/cluster-uid", Fixture.ClusterUid)] // AT-4
    [InlineData("/computeMetadata/v1/universe/universe-domain", "googleapis.com")] // U-1
    public async Task P_1_P_2_I_1_I_4_AT_2_AT_4_U_1_Values_AreServedAsText(string path, string expected)
    {
        var (response, body) = await fixture.Client().GetWithBodyAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/text", response.ContentType());
        Assert.Equal(expected, body);
    }

    [Fact]
    public async Task P_3_ProjectAttributes_ListsConfiguredKeys()
    {
        var (response, body) = await fixture.Client().GetWithBodyAsync("/computeMetadata/v1/project/attributes/");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("", body);
    }

    [Theory]
    [InlineData("/computeMetadata/v1/project/attributes/unknown")] // P-4
    [InlineData("/computeMetadata/v1/instance/region")] // I-6
    [InlineData("/computeMetadata/v1/instance/platform-security/auto-mtls-configuration")] // O-1
    [InlineData("/computeMetadata/v1/instance/guest-attributes/")] // O-2
    [InlineData("/computeMetadata/v1/universe/universe_domain")] // U-2
    [InlineData("/computeMetadata/v1/instance/tags")] // not part of the GKE profile
    public async Task P_4_I_6_O_1_O_2_U_2_UnservedKeys_Are404(string path)
    {
        using var response = await fixture.Client().GetAsync(path, flavor: true);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task AT_1_InstanceAttributes_ListsClusterKeysSorted()
    {
        var (_, body) = await fixture.Client().GetWithBodyAsync("/computeMetadata/v1/instance/attributes/");
        Assert.Equal("cluster-location\ncluster-name\ncluster-uid\n", body);
    }

    [Theory]
    [InlineData("kube-env")]
    [InlineData("configure-sh")]
    [InlineData("kube-labels")]
    [InlineData("user-data")]
    [InlineData("startup-script")]
    [InlineData("kubelet-config")]
    public async Task AT_5_BootstrapAttributes_Are404AndCountedAsConcealed(string key)
    {
        foreach (var scope in new[] { "instance", "project" })
        {
            var before = await ConcealedCountAsync();
            var (response, body) = await fixture.Client().GetWithBodyAsync($"/computeMetadata/v1/{scope}/attributes/{key}");

            // GKE profile: 404, which Go's client reads as NotDefinedError rather than failing; the reason stays visible.
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Equal(["Google"], response.Headers.GetValues("Metadata-Flavor"));
            Assert.Equal("This metadata endpoint is concealed.\n", body);
            Assert.Equal(before + 1, await ConcealedCountAsync());
        }
    }

    [Fact]
    public async Task AT_5_D_10_UnknownAttribute_Is404ButNotCountedAsConcealed()
    {
        var before = await ConcealedCountAsync();
        var (response, body) = await fixture.Client().GetWithBodyAsync("/computeMetadata/v1/instance/attributes/kube-envy");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.DoesNotContain("concealed", body, StringComparison.Ordinal);
        Assert.Equal(before, await ConcealedCountAsync());
    }

    [Fact]
    public async Task AT_6_InstanceAttributesRecursive_KeepsKeysVerbatim()
    {
        var (response, body) = await fixture.Client().GetWithBodyAsync("/computeMetadata/v1/instance/attributes/?recursive=true");
        Assert.Equal("application/json", response.ContentType());
        Assert.Equal($"{{\"cluster-location\":\"{Fixture.ClusterLocation}\",\"cluster-name\":\"{Fixture.ClusterName}\",\"cluster-uid\":\"{Fixture.ClusterUid}\"}}", body);
    }

    [Fact]
    public async Task SA_1_ServiceAccounts_ListsEmailAndDefault()
    {
        var (response, body) = await fixture.Client().GetWithBodyAsync("/computeMetadata/v1/instance/service-accounts/");
        Assert.Equal("application/text", response.ContentType());
        Assert.Equal($"{Fixture.AppServiceAccount}/\ndefault/\n", body);
    }

    [Fact]
    public async Task SA_1_DirectAccessCaller_ListsPoolAccount()
    {
        var (_, body) = await fixture.Client(ConformanceServer.DirectCaller).GetWithBodyAsync("/computeMetadata/v1/instance/service-accounts/");
        Assert.Equal("default/\ntest-project.svc.id.goog/\n", body);
    }

    [Theory]
    [InlineData("default")]
    [InlineData(Fixture.AppServiceAccount)]
    public async Task SA_2_ServiceAccountDirectory_ListsItsLeaves(string account)
    {
        var (_, body) = await fixture.Client().GetWithBodyAsync($"/computeMetadata/v1/instance/service-accounts/{account}/");
        Assert.Equal("aliases\nemail\nidentity\nscopes\ntoken\n", body);
    }

    [Theory]
    [InlineData("default")]
    [InlineData(Fixture.AppServiceAccount)]
    public async Task SA_3_Email_IsTheGoogleServiceAccount(string account)
    {
        var (_, body) = await fixture.Client().GetWithBodyAsync($"/computeMetadata/v1/instance/service-accounts/{account}/email");
        Assert.Equal(Fixture.AppServiceAccount, body);
    }

    [Fact]
    public async Task SA_3_DirectAccessCaller_EmailIsThePool()
    {
        var (_, body) = await fixture.Client(ConformanceServer.DirectCaller).GetWithBodyAsync("/computeMetadata/v1/instance/service-accounts/default/email");
        Assert.Equal("test-project.svc.id.goog", body);
    }

    [Fact]
    public async Task SA_4_Aliases_IsDefault()
    {
        var (_, body) = await fixture.Client().GetWithBodyAsync("/computeMetadata/v1/instance/service-accounts/default/aliases");
        Assert.Equal("default\n", body);
    }

    [Fact]
    public async Task SA_5_Scopes_AreOnePerLine()
    {
        var (_, body) = await fixture.Client().GetWithBodyAsync("/computeMetadata/v1/instance/service-accounts/default/scopes");
        Assert.Equal($"{Fixture.CloudPlatformScope}\n{Fixture.UserInfoEmailScope}\n", body);
    }

    [Theory]
    [InlineData("email")]
    [InlineData("token")]
    [InlineData("identity?audience=x")]
    public async Task SA_6_UnknownServiceAccount_Is404(string leaf)
    {
        using var response = await fixture.Client().GetAsync($"/computeMetadata/v1/instance/service-accounts/unknown@x.iam.gserviceaccount.com/{leaf}", flavor: true);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Theory]
    [InlineData("/computeMetadata/v1/instance/service-accounts/default/token")]
    [InlineData("/computeMetadata/v1/instance/service-accounts/default/identity?audience=https://x")]
    [InlineData("/computeMetadata/v1/instance/service-accounts/default/email")]
    public async Task WI_2_CallerWithNoIdentity_GetsNoServiceAccount(string path)
    {
        var (response, body) = await fixture.Client(ConformanceServer.UnknownCaller).GetWithBodyAsync(path);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("No identity is configured for 127.0.0.3", body, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("?audience=")]
    [InlineData("?format=full")]
    public async Task ID_3_IdentityWithoutAudience_Is400WithGcesSentence(string query)
    {
        var (response, body) = await fixture.Client().GetWithBodyAsync($"/computeMetadata/v1/instance/service-accounts/default/identity{query}");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("non-empty audience parameter required\n", body);
    }

    [Fact]
    public async Task WI_2_CallerWithNoIdentity_SeesAnEmptyServiceAccountDirectory()
    {
        var (response, body) = await fixture.Client(ConformanceServer.UnknownCaller).GetWithBodyAsync("/computeMetadata/v1/instance/service-accounts/");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("", body);
    }

    [Theory]
    [InlineData("/computeMetadata/v1beta1/instance/service-accounts/default/token", true)]
    [InlineData("/computeMetadata/v1beta1/project/project-id", false)]
    [InlineData("/0.1/meta-data/project-id", false)]
    [InlineData("/0.1/meta-data/", true)]
    [InlineData("/computeMetadata/0.1/", true)]
    public async Task L_1_LegacyEndpoints_Are403WithSentence(string path, bool flavor)
    {
        var (response, body) = await fixture.Client().GetWithBodyAsync(path, flavor);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("Legacy metadata endpoints are disabled. Please use the /v1/ endpoint.", body, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/latest/meta-data/iam/security-credentials/")]
    [InlineData("/metadata/identity/oauth2/token")]
    public async Task L_3_OtherCloudsPaths_Are404(string path)
    {
        using var response = await fixture.Client().GetAsync(path, flavor: true);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    /// <summary>What an admin sees: <c>metadata_proxy_requests_total{outcome="concealed",code="404"}</c>.</summary>
    private async Task<double> ConcealedCountAsync()
    {
        const string Series = "metadata_proxy_requests_total{outcome=\"concealed\",code=\"404\"}";
        using var admin = ProxyServer.CreateClient(fixture.Server.AdminUri, source: null);
        var text = await admin.GetStringAsync("/metrics", TestContext.Current.CancellationToken);
        var line = text.Split('\n').FirstOrDefault(l => l.StartsWith(Series + " ", StringComparison.Ordinal));
        return line is null ? 0 : double.Parse(line[(Series.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }
}
