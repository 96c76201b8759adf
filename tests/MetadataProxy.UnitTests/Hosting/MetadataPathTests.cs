using MetadataProxy.Hosting;

namespace MetadataProxy.UnitTests.Hosting;

public sealed class MetadataPathTests
{
    [Theory]
    [InlineData("/", "", true)]
    [InlineData("//", "", true)]
    [InlineData("/computeMetadata/v1", "computeMetadata|v1", false)]
    [InlineData("/computeMetadata/v1/", "computeMetadata|v1", true)]
    [InlineData("/computeMetadata/v1/project//project-id", "computeMetadata|v1|project|project-id", false)]
    [InlineData("/a/./b", "a|b", false)]
    [InlineData("/a/b/.", "a|b", true)]
    [InlineData("/a/b/..", "a", true)]
    [InlineData("/a/../b/", "b", true)]
    [InlineData("/instance/attributes/../attributes/kube-env", "instance|attributes|kube-env", false)]
    public void TryParse_NormalisesSegments(string raw, string segments, bool trailingSlash)
    {
        Assert.True(MetadataPath.TryParse(raw, out var path, out var error));
        Assert.Null(error);
        Assert.Equal(segments.Length == 0 ? [] : segments.Split('|'), path.Segments);
        Assert.Equal(trailingSlash, path.TrailingSlash);
    }

    [Theory]
    [InlineData("", "must start with '/'")]
    [InlineData("relative/path", "must start with '/'")]
    [InlineData("/..", "climbs above the root")]
    [InlineData("/a/../../b", "climbs above the root")]
    [InlineData("/a\u0000b", "control characters")]
    [InlineData("/a\r\nb", "control characters")]
    public void TryParse_RefusesBadPaths_WithAReason(string raw, string reason)
    {
        Assert.False(MetadataPath.TryParse(raw, out _, out var error));
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }

    [Fact]
    public void StartsWith_MatchesWholeSegmentsOnly()
    {
        Assert.True(MetadataPath.TryParse("/computeMetadata/v1beta1/x", out var path, out _));
        Assert.True(path.StartsWith("computeMetadata", "v1beta1"));
        Assert.False(path.StartsWith("computeMetadata", "v1"));
        Assert.False(path.StartsWith("computeMetadata", "v1beta1", "x", "y"));
    }
}
