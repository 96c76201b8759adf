using MetadataProxy.Pods;

namespace MetadataProxy.UnitTests.Pods;

public sealed class PodIndexTests
{
    private static readonly IPAddress Ip = IPAddress.Parse("10.4.1.7");

    [Fact]
    public void LiveAt_RunningPod_IsFoundByEveryAddress()
    {
        var index = new PodIndex();
        index.Upsert(Pod("a", addresses: ["10.4.1.7", "fd00::7"]));
        Assert.Equal("a", Assert.Single(index.LiveAt(Ip)).Uid);
        Assert.Equal("a", Assert.Single(index.LiveAt(IPAddress.Parse("fd00::7"))).Uid);
        Assert.Equal("a", Assert.Single(index.LiveAt(Ip.MapToIPv6())).Uid);
    }

    [Theory]
    [InlineData("Succeeded", false, false)]
    [InlineData("Failed", false, false)]
    [InlineData("Running", false, true)]
    public void LiveAt_TerminalOrHostNetworkPods_OwnNoAddress(string phase, bool terminating, bool hostNetwork)
    {
        var index = new PodIndex();
        index.Upsert(Pod("a", phase: phase, terminating: terminating, hostNetwork: hostNetwork));
        Assert.Empty(index.LiveAt(Ip));
        Assert.IsType<AddressOwner.Nobody>(index.OwnerOf(Ip));
    }

    [Fact]
    public void OwnerOf_TerminatingPodWhoseContainersStopped_IsNobody()
    {
        var index = new PodIndex();
        index.Upsert(Pod("a", terminating: true) with { ContainersStopped = true });
        Assert.IsType<AddressOwner.Nobody>(index.OwnerOf(Ip));
    }

    [Fact]
    public void OwnerOf_TerminatingPodAlone_KeepsItsAddress()
    {
        var index = new PodIndex();
        index.Upsert(Pod("a", terminating: true));
        Assert.Equal("a", Assert.IsType<AddressOwner.One>(index.OwnerOf(Ip)).Pod.Uid);
    }

    [Fact]
    public void OwnerOf_TerminatingPodWhilePodAwaitsAnAddress_IsContended()
    {
        var index = new PodIndex();
        index.Upsert(Pod("a", terminating: true));
        index.Upsert(Pod("b", phase: "Pending", addresses: []));
        var contended = Assert.IsType<AddressOwner.Contended>(index.OwnerOf(Ip));
        Assert.Equal("b", Assert.Single(contended.Waiting).Uid);

        // The waiting pod gets another address: the terminating pod's claim stands again.
        index.Upsert(Pod("b", addresses: ["10.4.1.9"]));
        Assert.Equal("a", Assert.IsType<AddressOwner.One>(index.OwnerOf(Ip)).Pod.Uid);
    }

    [Fact]
    public void OwnerOf_TerminatingPodAndNewPodWithItsAddress_IsTheNewPod()
    {
        var index = new PodIndex();
        index.Upsert(Pod("old", terminating: true));
        index.Upsert(Pod("new"));
        Assert.Equal("new", Assert.IsType<AddressOwner.One>(index.OwnerOf(Ip)).Pod.Uid);
    }

    [Fact]
    public void LiveAt_CompletedPodAndNewPodWithSameIp_IsTheNewPod()
    {
        var index = new PodIndex();
        index.Upsert(Pod("old", phase: "Succeeded"));
        index.Upsert(Pod("new"));
        Assert.Equal("new", Assert.Single(index.LiveAt(Ip)).Uid);
    }

    [Fact]
    public void LiveAt_TwoLivePodsWithOneIp_ReturnsBoth()
    {
        var index = new PodIndex();
        index.Upsert(Pod("a"));
        index.Upsert(Pod("b"));
        Assert.Equal(2, index.LiveAt(Ip).Length);
    }

    [Fact]
    public void Remove_DeletedPod_NoLongerOwnsItsAddress()
    {
        var index = new PodIndex();
        index.Upsert(Pod("a"));
        index.Remove("a");
        Assert.Empty(index.LiveAt(Ip));
        Assert.Null(index.ByUid("a"));
    }

    [Fact]
    public void ReplaceAll_DropsPodsMissingFromTheList()
    {
        var index = new PodIndex();
        index.Upsert(Pod("a"));
        index.ReplaceAll([Pod("b", addresses: ["10.4.1.8"])]);
        Assert.Empty(index.LiveAt(Ip));
        Assert.Single(index.LiveAt(IPAddress.Parse("10.4.1.8")));
    }

    [Fact]
    public void IsHostNetworkAddress_HostNetworkPodsAddresses_AreTheNodes()
    {
        var index = new PodIndex();
        index.Upsert(Pod("kube-proxy", hostNetwork: true, addresses: ["192.0.2.10"]));
        Assert.True(index.IsHostNetworkAddress(IPAddress.Parse("192.0.2.10")));
        Assert.False(index.IsHostNetworkAddress(Ip));
    }

    [Fact]
    public async Task NextChange_CompletesOnTheNextWrite()
    {
        var index = new PodIndex();
        var next = index.NextChange;
        Assert.False(next.IsCompleted);
        index.Upsert(Pod("a"));
        await next.WaitAsync(TimeSpan.FromSeconds(1), TestContext.Current.CancellationToken);
        Assert.False(index.NextChange.IsCompleted);
    }

    [Fact]
    public void Generation_MovesWithEveryChange_AddedThenRemovedIncluded_AndNeverWithReads()
    {
        // A pod that came and went leaves the index as it was, but not at the same generation: a List answer taken
        // before it came must not be reused as if nothing had happened (PodLister).
        var index = new PodIndex();
        var before = index.Generation;
        index.Upsert(Pod("a"));
        index.Remove("a");
        Assert.Equal(before + 2, index.Generation);

        _ = index.OwnerOf(Ip);
        _ = index.LiveAt(Ip);
        Assert.Equal(before + 2, index.Generation);

        index.ReplaceAll([Pod("b")]);
        Assert.Equal(before + 3, index.Generation);
    }

    private static PodRecord Pod(string uid, string phase = "Running", bool terminating = false, bool hostNetwork = false, string[]? addresses = null) =>
        new(uid, "ns", "pod-" + uid, "ksa", (addresses ?? ["10.4.1.7"]).Select(IPAddress.Parse).ToArray(), phase, hostNetwork, terminating);
}
