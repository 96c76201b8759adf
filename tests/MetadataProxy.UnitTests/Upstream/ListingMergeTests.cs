using MetadataProxy.Upstream;

namespace MetadataProxy.UnitTests.Upstream;

public sealed class ListingMergeTests
{
    [Fact]
    public void Merge_Instance_AppendsAllowedVmEntriesAndNeverAConcealedOne()
    {
        const string Vm = "attributes/\ncpu-platform\nguest-attributes/\nid\nnetwork-interfaces/\nservice-accounts/\nvirtual-clock/\nzone\n";
        const string Local = "attributes/\nid\nservice-accounts/\nzone\n";

        var merged = ListingMerge.Merge(Vm, Local, ["instance"], UpstreamPolicy.DefaultAllow);

        Assert.Equal("attributes/\nid\nservice-accounts/\nzone\ncpu-platform\nnetwork-interfaces/\n", merged);
    }

    [Fact]
    public void Merge_Attributes_DropsEveryConcealedSpelling()
    {
        const string Vm = "kube-env\nKUBE_ENV\nkubelet-cert\nssh-keys\nsshKeys\nstartup-script\nteam\nweird;key\n";

        var merged = ListingMerge.Merge(Vm, "cluster-name\n", ["instance", "attributes"], UpstreamPolicy.DefaultAllow);

        Assert.Equal("cluster-name\nteam\n", merged);
    }

    [Fact]
    public void Merge_Root_ShowsOnlyTopLevelDirectoriesWithAllowedPaths()
    {
        var merged = ListingMerge.Merge("instance/\noslogin/\nproject/\n", "instance/\nproject/\nuniverse/\n", [], UpstreamPolicy.DefaultAllow);

        Assert.Equal("instance/\nproject/\nuniverse/\n", merged);
    }
}
