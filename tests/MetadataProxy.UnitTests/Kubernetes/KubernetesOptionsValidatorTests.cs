using MetadataProxy.Kubernetes;

namespace MetadataProxy.UnitTests.Kubernetes;

public sealed class KubernetesOptionsValidatorTests
{
    [Theory]
    [InlineData("00:00:00.050", "00:00:03", "Kubernetes:WatchBookmarkInterval must be between")]
    [InlineData("00:11:00", "00:00:03", "Kubernetes:WatchBookmarkInterval must be between")]
    [InlineData("00:01:00", "00:00:00.1", "Kubernetes:ReconnectDelayMax must be between")]
    [InlineData("00:01:00", "00:02:00", "Kubernetes:ReconnectDelayMax must be between")]
    public void Validate_OutOfRangeWatchTimings_FailWithTheValue(string bookmark, string reconnect, string expected)
    {
        var options = new KubernetesOptions
        {
            NodeName = "node-a",
            WatchBookmarkInterval = TimeSpan.Parse(bookmark, System.Globalization.CultureInfo.InvariantCulture),
            ReconnectDelayMax = TimeSpan.Parse(reconnect, System.Globalization.CultureInfo.InvariantCulture),
        };
        var result = new KubernetesOptionsValidator().Validate(null, options);
        Assert.True(result.Failed);
        Assert.Contains(result.Failures!, f => f.StartsWith(expected, StringComparison.Ordinal) && f.Contains("; it is ", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_Defaults_HaveNoTimingProblem()
    {
        var result = new KubernetesOptionsValidator().Validate(null, new KubernetesOptions { NodeName = "node-a" });
        Assert.DoesNotContain(result.Failures ?? [], f => f.Contains("WatchBookmarkInterval", StringComparison.Ordinal) || f.Contains("ReconnectDelayMax", StringComparison.Ordinal));
    }
}
