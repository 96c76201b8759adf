using System.Text.Json.Nodes;
using MetadataProxy.FunctionalTests.Infrastructure;
using MetadataProxy.TestServers.ComputeMetadata;

namespace MetadataProxy.FunctionalTests.Passthrough;

/// <summary>
/// Issue 12: a recursive listing of a directory both servers fill is one valid JSON document: the VM's allowed values,
/// none of its concealed ones, this server's values winning, and an ETag that is the content's.
/// </summary>
public sealed class PassthroughRecursiveMergeTests(PassthroughLab lab) : IClassFixture<PassthroughLab>
{
    [Fact]
    public async Task GetInstanceRecursive_MergesTheVmsAllowedValuesUnderTheLocalOnes()
    {
        using var client = lab.Client();
        var (response, body) = await client.GetWithBodyAsync("/computeMetadata/v1/instance/?recursive=true");
        var json = JsonNode.Parse(body)!.AsObject();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.ContentType());
        Assert.Equal("projects/999/machineTypes/e2-standard-4", (string?)json["machineType"]);
        Assert.Equal("Intel Broadwell", (string?)json["cpuPlatform"]);
        Assert.Equal("10.128.0.7", (string?)json["networkInterfaces"]!["0"]!["ip"]);
        Assert.Equal("from-the-vm", (string?)json["attributes"]!["user-setting"]);
        Assert.Equal(Fixture.ClusterName, (string?)json["attributes"]!["cluster-name"]); // local wins over the VM's
        Assert.Equal(Fixture.Zone, (string?)json["zone"]);
        Assert.Equal(Fixture.InstanceId, json["id"]!.ToJsonString());
        Assert.Null(json["virtualClock"]); // not on the allow-list
        Assert.Null(json["guestAttributes"]);
        Assert.Null(json["attributes"]!["kube-env"]);
        Assert.Null(json["attributes"]!["kubelet-cert"]);
        Assert.DoesNotContain(PassthroughLab.Secret, body, StringComparison.Ordinal);
        Assert.DoesNotContain("vm-sa@", body, StringComparison.Ordinal);
        Assert.Equal(ComputeMetadataTestServer.ETagOf(body), response.Single("ETag"));
    }

    [Fact]
    public async Task GetRootRecursive_KeepsLocalProjectValuesAndAddsTheVmsProjectAttributes()
    {
        using var client = lab.Client();
        var (response, body) = await client.GetWithBodyAsync("/computeMetadata/v1/?recursive=true&alt=json");
        var json = JsonNode.Parse(body)!.AsObject();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Fixture.ProjectId, (string?)json["project"]!["projectId"]);
        Assert.Equal("platform", (string?)json["project"]!["attributes"]!["team"]);
        Assert.Null(json["project"]!["attributes"]!["ssh-keys"]);
        Assert.Equal("googleapis.com", (string?)json["universe"]!["universeDomain"]);
        Assert.DoesNotContain(PassthroughLab.Secret, body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetRecursive_Twice_GivesTheSameBodyAndETag()
    {
        using var client = lab.Client();
        var (first, firstBody) = await client.GetWithBodyAsync("/computeMetadata/v1/instance/attributes/?recursive=true");
        var (second, secondBody) = await client.GetWithBodyAsync("/computeMetadata/v1/instance/attributes/?recursive=true");

        Assert.Equal(firstBody, secondBody);
        Assert.Equal(first.Single("ETag"), second.Single("ETag"));
        Assert.Equal("from-the-vm", (string?)JsonNode.Parse(firstBody)!["user-setting"]);
    }

    [Fact]
    public async Task GetInstanceListing_AddsTheVmsAllowedEntriesAfterTheLocalOnes()
    {
        using var client = lab.Client();
        var (response, body) = await client.GetWithBodyAsync("/computeMetadata/v1/instance/");
        var entries = body.Split('\n', StringSplitOptions.RemoveEmptyEntries);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["attributes/", "hostname", "id", "name", "service-accounts/", "zone"], entries[..6]);
        Assert.Contains("machine-type", entries);
        Assert.Contains("network-interfaces/", entries);
        Assert.Contains("preempted", entries);
        Assert.DoesNotContain("guest-attributes/", entries);
        Assert.DoesNotContain("virtual-clock/", entries);
        Assert.Equal(entries.Length, entries.Distinct().Count());
        Assert.Equal(ComputeMetadataTestServer.ETagOf(body), response.Single("ETag"));
    }

    [Fact]
    public async Task GetAttributesListing_AddsTheVmsAttributesButNoConcealedOne()
    {
        using var client = lab.Client();
        var (response, body) = await client.GetWithBodyAsync("/computeMetadata/v1/instance/attributes/");
        var entries = body.Split('\n', StringSplitOptions.RemoveEmptyEntries);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["cluster-location", "cluster-name", "cluster-uid", "user-setting"], entries);
    }

    [Fact]
    public async Task GetRecursive_WhenTheUpstreamIsDown_AnswersTheLocalListingAlone()
    {
        var upstream = await ComputeMetadataTestServer.StartAsync(cancellationToken: TestContext.Current.CancellationToken);
        await using var server = await PassthroughLab.StartProxyAsync(upstream.BaseAddress.ToString());
        using var client = server.CreateClient(PassthroughLab.AppCaller);
        var (before, merged) = await client.GetWithBodyAsync("/computeMetadata/v1/instance/?recursive=true");
        await upstream.DisposeAsync();

        var (after, local) = await client.GetWithBodyAsync("/computeMetadata/v1/instance/?recursive=true");

        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        Assert.Equal(merged, local); // this VM had nothing to add
        Assert.Equal(Fixture.Zone, (string?)JsonNode.Parse(local)!["zone"]);
        Assert.Contains("metadata_proxy_upstream_requests_total{outcome=\"unreachable\"} 1", await PassthroughLab.MetricsAsync(server), StringComparison.Ordinal);
    }
}
