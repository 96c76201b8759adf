using MetadataProxy.FunctionalTests.Infrastructure;
using MetadataProxy.TestServers.ComputeMetadata;

namespace MetadataProxy.FunctionalTests.Passthrough;

/// <summary>Issue 12: which paths go to the VM's metadata server, which stay local, and which are concealed.</summary>
public sealed class PassthroughPathTests(PassthroughLab lab) : IClassFixture<PassthroughLab>
{
    [Theory]
    [InlineData("instance/network-interfaces/0/ip")]
    [InlineData("instance/network-interfaces/0/access-configs/0/external-ip")]
    [InlineData("instance/machine-type")]
    [InlineData("instance/maintenance-event")]
    [InlineData("instance/preempted")]
    [InlineData("instance/cpu-platform")]
    [InlineData("instance/image")]
    [InlineData("instance/tags")]
    [InlineData("instance/attributes/user-setting")]
    [InlineData("project/attributes/team")]
    public async Task Get_AllowedPathNotServedLocally_AnswersTheVmsValueStatusETagAndContentType(string key)
    {
        using var client = lab.Client();
        var (response, body) = await client.GetWithBodyAsync("/computeMetadata/v1/" + key);

        var value = PassthroughLab.VmValues[key];
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(value, body);
        Assert.Equal(ComputeMetadataTestServer.ETagOf(value), response.Headers.ETag?.Tag.Trim('"') ?? response.Single("ETag"));
        Assert.Equal("application/text", response.ContentType());
        Assert.Equal("Google", response.Single("Metadata-Flavor")); // exactly one, the upstream's
        Assert.Equal("Metadata Server for VM", response.Headers.Server.ToString());
        var received = Assert.Single(lab.ReceivedFor(key));
        Assert.Equal("Google", received.Headers["Metadata-Flavor"]);
    }

    [Fact]
    public async Task Get_AllowedDirectory_ForwardsTheListingAndTheRecursiveJson()
    {
        using var client = lab.Client();
        var (listing, listingBody) = await client.GetWithBodyAsync("/computeMetadata/v1/instance/network-interfaces/0/");
        var (recursive, json) = await client.GetWithBodyAsync("/computeMetadata/v1/instance/network-interfaces/?recursive=true&alt=json");

        Assert.Equal(HttpStatusCode.OK, listing.StatusCode);
        Assert.Equal("access-configs/\nip\n", listingBody);
        Assert.Equal(HttpStatusCode.OK, recursive.StatusCode);
        Assert.Equal("{\"0\":{\"accessConfigs\":{\"0\":{\"externalIp\":\"34.1.2.3\"}},\"ip\":\"10.128.0.7\"}}", json);
        Assert.Contains(lab.Upstream.Received, r => r.RawTarget == "/computeMetadata/v1/instance/network-interfaces/?recursive=true&alt=json");
    }

    [Fact]
    public async Task Get_AllowedDirectoryWithoutSlash_ReturnsTheUpstreamsRedirect()
    {
        using var client = lab.Client();
        var (response, _) = await client.GetWithBodyAsync("/computeMetadata/v1/instance/network-interfaces");

        Assert.Equal(HttpStatusCode.MovedPermanently, response.StatusCode);
        Assert.Equal("/computeMetadata/v1/instance/network-interfaces/", response.Headers.Location?.OriginalString);
    }

    [Fact]
    public async Task Get_AllowedPathTheVmLacks_ReturnsTheUpstreams404()
    {
        using var client = lab.Client();
        var (response, body) = await client.GetWithBodyAsync("/computeMetadata/v1/instance/attributes/not-set-anywhere");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("404 Not Found", body, StringComparison.Ordinal);
        Assert.Single(lab.ReceivedFor("instance/attributes/not-set-anywhere"));
    }

    [Fact]
    public async Task Head_AllowedPath_ForwardsAHeadAndNoBody()
    {
        using var client = lab.Client();
        using var request = MetadataRequests.Get("/computeMetadata/v1/instance/cpu-platform");
        request.Method = HttpMethod.Head;
        using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(ComputeMetadataTestServer.ETagOf("Intel Broadwell"), response.Single("ETag"));
        Assert.Contains(lab.ReceivedFor("instance/cpu-platform"), r => r.Method == "HEAD");
    }

    [Theory]
    [InlineData("instance/zone", Fixture.Zone)]
    [InlineData("instance/id", Fixture.InstanceId)]
    [InlineData("project/project-id", Fixture.ProjectId)]
    [InlineData("instance/attributes/cluster-name", Fixture.ClusterName)]
    [InlineData("instance/service-accounts/default/email", Fixture.AppServiceAccount)]
    public async Task Get_PathServedLocally_AnswersTheLocalValueAndNeverAsksUpstream(string key, string expected)
    {
        using var client = lab.Client();
        var (response, body) = await client.GetWithBodyAsync("/computeMetadata/v1/" + key);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(expected, body);
        Assert.Empty(lab.ReceivedFor(key));
    }

    [Theory]
    [InlineData("instance/attributes/kube-env")]
    [InlineData("instance/attributes/kubelet-cert")]
    [InlineData("instance/attributes/ssh-keys")]
    [InlineData("instance/attributes/startup-script")]
    [InlineData("instance/attributes/user-data")]
    [InlineData("project/attributes/ssh-keys")]
    [InlineData("instance/guest-attributes/hostkeys/ssh-rsa")]
    [InlineData("instance/service-accounts/vm-sa@vm-project.iam.gserviceaccount.com/token")]
    [InlineData("instance/network-interfaces/0/kubelet-config")]
    public async Task Get_ConcealedPath_Answers404AndNeverAsksUpstream(string key)
    {
        using var client = lab.Client();
        var (response, body) = await client.GetWithBodyAsync("/computeMetadata/v1/" + key);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.DoesNotContain(PassthroughLab.Secret, body, StringComparison.Ordinal);
        Assert.Empty(lab.ReceivedFor(key));
    }

    [Fact]
    public async Task Get_PathNotOnTheAllowList_AnswersTheLocal404AndNeverAsksUpstream()
    {
        using var client = lab.Client();
        var (response, body) = await client.GetWithBodyAsync("/computeMetadata/v1/instance/virtual-clock/drift-token");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("/computeMetadata/v1/instance/virtual-clock/drift-token was not found", body, StringComparison.Ordinal);
        Assert.Empty(lab.ReceivedFor("instance/virtual-clock/drift-token"));
    }

    [Fact]
    public async Task Get_WithCallerHeaders_SendsOnlyMetadataFlavorAndNoForwardedHeaders()
    {
        using var client = lab.Client();
        using var request = MetadataRequests.Get("/computeMetadata/v1/instance/description");
        request.Headers.Add("X-Forwarded-Host", "evil.example");
        request.Headers.Add("X-Forwarded-Proto", "https");
        request.Headers.Add("Forwarded", "for=192.0.2.1");
        request.Headers.Add("Cookie", "session=1");
        request.Headers.Add("Authorization", "Bearer caller-token");
        using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var received = Assert.Single(lab.ReceivedFor("instance/description"));
        Assert.DoesNotContain(received.Headers.Keys, h => h.StartsWith("X-Forwarded", StringComparison.OrdinalIgnoreCase));
        Assert.DoesNotContain(received.Headers.Keys, h => h is "Forwarded" or "Cookie" or "Authorization" or "traceparent");
        Assert.Equal("Google", received.Headers["Metadata-Flavor"]);
    }
}
