using k8s.Models;
using MetadataProxy.Kubernetes;

namespace MetadataProxy.UnitTests.Kubernetes;

public sealed class NodeReaderTests
{
    [Theory]
    [InlineData("us-central1-b", "us-central1-b")]
    [InlineData("europe-west4-a", "europe-west4-a")]
    [InlineData("us-east-1a", null)] // EKS
    [InlineData("eastus-1", null)] // AKS
    [InlineData("rack-7", null)] // on premises
    public void From_OnlyAGceShapedZoneLabelStandsForTheZone(string label, string? zone)
    {
        var facts = NodeReader.From(new V1Node
        {
            Metadata = new V1ObjectMeta { Name = "n", Labels = new Dictionary<string, string> { [NodeInfo.ZoneLabel] = label } },
            Status = new V1NodeStatus { Addresses = [new V1NodeAddress { Type = "InternalIP", Address = "10.0.0.5" }, new V1NodeAddress { Type = "Hostname", Address = "n" }] },
        });
        Assert.Equal(zone, facts.Zone);
        Assert.Equal([IPAddress.Parse("10.0.0.5")], facts.Addresses);
    }
}
