using MetadataProxy.Upstream;

namespace MetadataProxy.UnitTests.Upstream;

/// <summary>The allow-list's two questions, asked by the policy (Covers) and by the listing merges (LeadsTo).</summary>
public sealed class UpstreamAllowListTests
{
    private static readonly UpstreamAllowList Allow = new(["instance/attributes", "instance/network-interfaces/", "project/attributes/team"]);

    [Theory]
    [InlineData("instance/attributes", true)]
    [InlineData("instance/attributes/user-setting", true)]
    [InlineData("instance/network-interfaces/0/ip", true)] // an entry's trailing slash is no segment
    [InlineData("project/attributes/team", true)]
    [InlineData("project/attributes/teams", false)] // segments, not characters
    [InlineData("project/attributes", false)]
    [InlineData("instance", false)]
    [InlineData("", false)]
    [InlineData("Instance/attributes", false)] // ordinal: the policy forwards only the spelling it saw
    public void Covers_IsTheEntryOrBelowIt(string path, bool expected) =>
        Assert.Equal(expected, Allow.Covers(Segments(path)));

    [Theory]
    [InlineData("", true)]
    [InlineData("instance", true)]
    [InlineData("project/attributes", true)]
    [InlineData("instance/attributes", true)]
    [InlineData("instance/attributes/user-setting", false)]
    [InlineData("instance/disks", false)]
    public void LeadsTo_AnEntryIsThePathOrBelowIt(string path, bool expected) =>
        Assert.Equal(expected, Allow.LeadsTo(Segments(path)));

    private static string[] Segments(string path) => path.Split('/', StringSplitOptions.RemoveEmptyEntries);
}
