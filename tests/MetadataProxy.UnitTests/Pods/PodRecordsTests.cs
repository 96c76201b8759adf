using k8s.Models;
using MetadataProxy.Pods;

namespace MetadataProxy.UnitTests.Pods;

public sealed class PodRecordsTests
{
    [Fact]
    public void From_UsesEveryPodIpAndDefaultsTheServiceAccount()
    {
        var pod = new V1Pod
        {
            Metadata = new V1ObjectMeta { Uid = "u", NamespaceProperty = "ns", Name = "p" },
            Spec = new V1PodSpec(),
            Status = new V1PodStatus { Phase = "Running", PodIP = "10.0.0.1", PodIPs = [new V1PodIP { Ip = "10.0.0.1" }, new V1PodIP { Ip = "fd00::1" }] },
        };
        var record = PodRecords.From(pod);
        Assert.Equal(["10.0.0.1", "fd00::1"], record.Addresses.Select(a => a.ToString()));
        Assert.Equal("default", record.ServiceAccount);
        Assert.True(record.IsLive);
    }

    [Fact]
    public void From_DeletionTimestamp_MakesThePodTerminating()
    {
        var pod = new V1Pod
        {
            Metadata = new V1ObjectMeta { Uid = "u", NamespaceProperty = "ns", Name = "p", DeletionTimestamp = DateTime.UtcNow },
            Spec = new V1PodSpec { ServiceAccountName = "app" },
            Status = new V1PodStatus { Phase = "Running", PodIP = "10.0.0.1" },
        };
        var record = PodRecords.From(pod);
        Assert.True(record.Terminating);
        Assert.True(record.IsLive); // its containers still run their shutdown hooks
        Assert.False(record.AwaitsAddress);
        Assert.Equal("app", record.ServiceAccount);
    }

    [Theory]
    [InlineData(true, true, true)]
    [InlineData(true, false, false)]
    [InlineData(false, true, false)]
    public void From_ContainerStatuses_TellWhetherEveryContainerStopped(bool firstStopped, bool secondStopped, bool expected)
    {
        var pod = new V1Pod
        {
            Metadata = new V1ObjectMeta { Uid = "u", NamespaceProperty = "ns", Name = "p", DeletionTimestamp = DateTime.UtcNow },
            Status = new V1PodStatus
            {
                Phase = "Running",
                PodIP = "10.0.0.1",
                ContainerStatuses = [Status("a", firstStopped), Status("b", secondStopped)],
            },
        };
        var record = PodRecords.From(pod);
        Assert.Equal(expected, record.ContainersStopped);
        Assert.Equal(!expected, record.IsLive);

        static V1ContainerStatus Status(string name, bool stopped) => new()
        {
            Name = name,
            Image = "i",
            ImageID = "i",
            Ready = !stopped,
            RestartCount = 0,
            State = stopped ? new V1ContainerState { Terminated = new V1ContainerStateTerminated { ExitCode = 0 } } : new V1ContainerState { Running = new V1ContainerStateRunning() },
        };
    }

    [Fact]
    public void From_PendingPodWithoutIp_HasNoAddresses()
    {
        var pod = new V1Pod { Metadata = new V1ObjectMeta { Uid = "u", NamespaceProperty = "ns", Name = "p" }, Status = new V1PodStatus { Phase = "Pending" } };
        Assert.Empty(PodRecords.From(pod).Addresses);
        Assert.True(PodRecords.From(pod).AwaitsAddress);
    }
}
