using System.Text.Json.Nodes;
using MetadataProxy.Upstream;

namespace MetadataProxy.UnitTests.Upstream;

public sealed class RecursiveMergeTests
{
    private const string Vm = """
        {"attributes":{"kube-env":"S1","kubeEnv":"S2","KUBE_ENV":"S3","team":"platform","cluster-name":"vm"},
         "serviceAccounts":{"default":{"token":"S4","email":"vm@x"}},
         "guestAttributes":{"k":"S5"},
         "networkInterfaces":[{"ip":"10.0.0.7","accessConfigs":[{"externalIp":"34.1.2.3"}]}],
         "machineType":"e2","virtualClock":{"driftToken":"0"},"zone":"vm-zone","id":999}
        """;

    private const string Local = """{"attributes":{"cluster-name":"local"},"serviceAccounts":{"default":{"email":"app@x"}},"zone":"local-zone"}""";

    [Fact]
    public void Merge_Instance_KeepsAllowedVmValuesDropsConcealedAndLetsLocalWin()
    {
        var merged = RecursiveMerge.Merge(JsonNode.Parse(Vm)!.AsObject(), JsonNode.Parse(Local)!.AsObject(), ["instance"], UpstreamPolicy.DefaultAllow);
        var text = merged.ToJsonString();

        Assert.Equal("platform", (string?)merged["attributes"]!["team"]);
        Assert.Equal("local", (string?)merged["attributes"]!["cluster-name"]);
        Assert.Equal("local-zone", (string?)merged["zone"]);
        Assert.Equal("app@x", (string?)merged["serviceAccounts"]!["default"]!["email"]);
        Assert.Equal("e2", (string?)merged["machineType"]);
        Assert.Equal("34.1.2.3", (string?)merged["networkInterfaces"]![0]!["accessConfigs"]![0]!["externalIp"]);
        Assert.Equal(999, (int?)merged["id"]);
        Assert.Null(merged["virtualClock"]);
        Assert.Null(merged["guestAttributes"]);
        foreach (var secret in new[] { "S1", "S2", "S3", "S4", "S5", "vm@x" })
            Assert.DoesNotContain($"\"{secret}\"", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("networkInterfaces", new string[0], "network-interfaces")]
    [InlineData("kubeEnv", new[] { "instance", "attributes" }, "kubeEnv")]
    [InlineData("cpuPlatform", new[] { "instance" }, "cpu-platform")]
    public void PathSegment_TurnsFixedCamelCaseKeysBackIntoPathSegments(string key, string[] parent, string expected) =>
        Assert.Equal(expected, RecursiveMerge.PathSegment(key, parent));
}
