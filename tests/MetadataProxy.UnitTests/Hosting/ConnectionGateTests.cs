using MetadataProxy.Hosting;

namespace MetadataProxy.UnitTests.Hosting;

public sealed class ConnectionGateTests
{
    private static readonly IPAddress PodA = IPAddress.Parse("10.0.0.1");
    private static readonly IPAddress PodB = IPAddress.Parse("10.0.0.2");
    private static readonly IPAddress Node = IPAddress.Parse("192.0.2.10");

    [Fact]
    public void TryEnter_OverTheSourcesCap_IsSourceFull_OthersStillAdmitted()
    {
        var gate = new ConnectionGate("metadata", maxTotal: 10, maxPerSource: 3, nodeExemptFromTotal: false);
        for (var i = 0; i < 3; i++)
            Assert.Equal(ConnectionAdmission.Admitted, gate.TryEnter(PodA, fromNode: false));

        Assert.Equal(ConnectionAdmission.SourceFull, gate.TryEnter(PodA, fromNode: false));
        Assert.Equal(ConnectionAdmission.Admitted, gate.TryEnter(PodB, fromNode: false));
        Assert.Equal(4, gate.Open);
    }

    [Fact]
    public void Leave_FreesTheSourcesSlot()
    {
        var gate = new ConnectionGate("metadata", maxTotal: 10, maxPerSource: 1, nodeExemptFromTotal: false);
        Assert.Equal(ConnectionAdmission.Admitted, gate.TryEnter(PodA, fromNode: false));
        gate.Leave(PodA, fromNode: false);

        Assert.Equal(ConnectionAdmission.Admitted, gate.TryEnter(PodA, fromNode: false));
        Assert.Equal(1, gate.Open);
    }

    [Fact]
    public void TryEnter_ListenerAtItsTotal_IsListenerFull()
    {
        var gate = new ConnectionGate("metadata", maxTotal: 4, maxPerSource: 2, nodeExemptFromTotal: false);
        foreach (var pod in new[] { "10.0.0.1", "10.0.0.1", "10.0.0.2", "10.0.0.2" })
            Assert.Equal(ConnectionAdmission.Admitted, gate.TryEnter(IPAddress.Parse(pod), fromNode: false));

        Assert.Equal(ConnectionAdmission.ListenerFull, gate.TryEnter(IPAddress.Parse("10.0.0.3"), fromNode: false));
        Assert.Equal(ConnectionAdmission.ListenerFull, gate.TryEnter(Node, fromNode: true)); // the metadata listener exempts nobody
    }

    [Fact]
    public void TryEnter_NodeExempt_IsAdmittedWhenPodsFillTheListener_WithinItsOwnCap()
    {
        var gate = new ConnectionGate("admin", maxTotal: 2, maxPerSource: 2, nodeExemptFromTotal: true);
        Assert.Equal(ConnectionAdmission.Admitted, gate.TryEnter(PodA, fromNode: false));
        Assert.Equal(ConnectionAdmission.Admitted, gate.TryEnter(PodB, fromNode: false));

        Assert.Equal(ConnectionAdmission.Admitted, gate.TryEnter(Node, fromNode: true));
        Assert.Equal(ConnectionAdmission.Admitted, gate.TryEnter(Node, fromNode: true));
        Assert.Equal(ConnectionAdmission.SourceFull, gate.TryEnter(Node, fromNode: true));
        Assert.Equal(ConnectionAdmission.ListenerFull, gate.TryEnter(IPAddress.Parse("10.0.0.3"), fromNode: false));
    }

    [Fact]
    public void Leave_NodeConnection_DoesNotFreeAPodsShareOfTheTotal()
    {
        var gate = new ConnectionGate("admin", maxTotal: 1, maxPerSource: 2, nodeExemptFromTotal: true);
        Assert.Equal(ConnectionAdmission.Admitted, gate.TryEnter(Node, fromNode: true));
        Assert.Equal(ConnectionAdmission.Admitted, gate.TryEnter(PodA, fromNode: false));
        gate.Leave(Node, fromNode: true);

        Assert.Equal(ConnectionAdmission.ListenerFull, gate.TryEnter(PodB, fromNode: false));
        Assert.Equal(1, gate.Open);
    }
}
