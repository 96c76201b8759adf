using MetadataProxy.FunctionalTests.Infrastructure;

namespace MetadataProxy.FunctionalTests.Conformance;

/// <summary>
/// P-3, AT-1, AT-6, R-3, R-8: attribute maps keep the order in which their keys were set, as GCE does (the GKE node
/// capture in spec/fixtures lists <c>cluster-name</c> before <c>cluster-location</c>); fixed keys stay ordinal.
/// </summary>
public sealed class AttributeOrderTests : IAsyncLifetime
{
    private const string Attributes = "/computeMetadata/v1/project/attributes/";
    private ProxyServer? _server;

    private ProxyServer Server => _server ?? throw new InvalidOperationException("Not started.");

    public async ValueTask InitializeAsync()
    {
        var settings = Fixture.MetadataSettings();
        // The list form carries an order (configuration hands a map's keys over sorted); the map form follows it.
        settings["Metadata:ProjectAttributes:0:Key"] = "zeta";
        settings["Metadata:ProjectAttributes:0:Value"] = "1";
        settings["Metadata:ProjectAttributes:1:Key"] = "alpha";
        settings["Metadata:ProjectAttributes:1:Value"] = "2";
        settings["Metadata:ProjectAttributes:2:Key"] = "Mid";
        settings["Metadata:ProjectAttributes:2:Value"] = "";
        settings["Metadata:ProjectAttributes:team"] = "payments";
        _server = await ProxyServer.StartAsync(settings);
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
            await _server.DisposeAsync();
    }

    [Fact]
    public async Task P_3_Listing_IsInTheConfiguredOrder()
    {
        var (response, body) = await Server.CreateClient().GetWithBodyAsync(Attributes);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("zeta\nalpha\nMid\nteam\n", body);
    }

    [Fact]
    public async Task P_4_DefinedButEmptyAttribute_Is200WithAnEmptyBody()
    {
        var (response, body) = await Server.CreateClient().GetWithBodyAsync(Attributes + "Mid");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("", body);
    }

    [Fact]
    public async Task AT_6_RecursiveJson_IsInTheConfiguredOrder()
    {
        var (response, body) = await Server.CreateClient().GetWithBodyAsync(Attributes + "?recursive=true");
        Assert.Equal("application/json", response.ContentType());
        Assert.Equal("{\"zeta\":\"1\",\"alpha\":\"2\",\"Mid\":\"\",\"team\":\"payments\"}", body);
    }

    [Fact]
    public async Task R_3_RootRecursive_KeepsAttributeOrderAndOrdinalFixedKeys()
    {
        var (_, body) = await Server.CreateClient().GetWithBodyAsync("/computeMetadata/v1/?recursive=true");
        Assert.Contains("\"project\":{\"attributes\":{\"zeta\":\"1\",\"alpha\":\"2\",\"Mid\":\"\",\"team\":\"payments\"},\"numericProjectId\":123456789012,\"projectId\":\"test-project\"}",
            body, StringComparison.Ordinal);
        Assert.Contains($"\"attributes\":{{\"cluster-location\":\"{Fixture.ClusterLocation}\",\"cluster-name\":\"{Fixture.ClusterName}\",\"cluster-uid\":\"{Fixture.ClusterUid}\"}}", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task R_8_RecursiveText_IsInTheConfiguredOrder()
    {
        var (_, body) = await Server.CreateClient().GetWithBodyAsync("/computeMetadata/v1/project/?recursive=true&alt=text");
        Assert.Equal("attributes/zeta 1\nattributes/alpha 2\nattributes/Mid \nattributes/team payments\nnumeric-project-id 123456789012\nproject-id test-project\n", body);
    }

    [Fact]
    public async Task AT_1_InstanceAttributes_StaySorted()
    {
        var (_, body) = await Server.CreateClient().GetWithBodyAsync("/computeMetadata/v1/instance/attributes/");
        Assert.Equal("cluster-location\ncluster-name\ncluster-uid\n", body);
    }

    [Fact]
    public async Task W_2_ListEntryAddedByReload_TakesItsIndexPlace()
    {
        using var client = Server.CreateClient();
        var (current, _) = await client.GetWithBodyAsync(Attributes + "?recursive=true");
        var waiting = client.GetWithBodyAsync(Attributes + $"?recursive=true&wait_for_change=true&timeout_sec=30&last_etag={current.Single("ETag")}");

        Server.Reconfigure("Metadata:ProjectAttributes:3:Value", "4");
        Server.Reconfigure("Metadata:ProjectAttributes:3:Key", "beta");

        await Kubernetes.KubernetesLab.WaitUntilAsync(async () => (await client.GetWithBodyAsync(Attributes)).Body == "zeta\nalpha\nMid\nbeta\nteam\n");
        var (response, body) = await waiting;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("{\"zeta\":\"1\",\"alpha\":\"2\",\"Mid\":\"\",\"beta\":\"4\",\"team\":\"payments\"}", body);

        // Back to the class's configuration for the other tests (the Key last, so no step is an invalid entry).
        Server.Reconfigure("Metadata:ProjectAttributes:3:Value", null);
        Server.Reconfigure("Metadata:ProjectAttributes:3:Key", null);
        await Kubernetes.KubernetesLab.WaitUntilAsync(async () => (await client.GetWithBodyAsync(Attributes)).Body == "zeta\nalpha\nMid\nteam\n");
    }
}
