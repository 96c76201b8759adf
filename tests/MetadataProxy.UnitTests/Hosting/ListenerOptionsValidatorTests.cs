using MetadataProxy.Hosting;

namespace MetadataProxy.UnitTests.Hosting;

public sealed class ListenerOptionsValidatorTests
{
    [Fact]
    public void Validate_Defaults_Succeed()
    {
        var options = new ListenerOptions();
        options.ApplyDefaults(ProxyMode.Kubernetes);
        options.NodeSocket = "";

        var result = new ListenerOptionsValidator(ProxyMode.Kubernetes).Validate(null, options);

        Assert.True(result.Succeeded, result.FailureMessage);
    }

    [Theory]
    [InlineData(nameof(ListenerOptions.MaxConnectionsPerSource), "32", "Listen:MaxConnectionsPerSource 32 must be more than 32")]
    [InlineData(nameof(ListenerOptions.MaxConnectionsPerSource), "4096", "Listen:MaxConnectionsPerSource 4096 must be more than 32 (the wait_for_change requests one caller may hold) and less than Listen:MaxConnections (4096)")]
    [InlineData(nameof(ListenerOptions.AdminMaxConnectionsPerSource), "1", "Listen:AdminMaxConnectionsPerSource 1 must be at least 2")]
    [InlineData(nameof(ListenerOptions.AdminMaxConnectionsPerSource), "5000", "Listen:AdminMaxConnectionsPerSource 5000 must be at least 2 and less than Listen:MaxConnections (4096)")]
    [InlineData(nameof(ListenerOptions.RequestHeadersTimeout), "00:00:00.500", "Listen:RequestHeadersTimeout 00:00:00.5000000 must be between 00:00:01 and 00:00:30")]
    [InlineData(nameof(ListenerOptions.RequestHeadersTimeout), "00:01:00", "Listen:RequestHeadersTimeout 00:01:00 must be between")]
    [InlineData(nameof(ListenerOptions.KeepAliveTimeout), "00:00:00", "Listen:KeepAliveTimeout 00:00:00 must be between 00:00:01 and 00:05:00")]
    [InlineData(nameof(ListenerOptions.KeepAliveTimeout), "01:00:00", "Listen:KeepAliveTimeout 01:00:00 must be between")]
    public void Validate_OutOfRange_SaysWhichKeyAndValue(string property, string value, string expected)
    {
        var options = new ListenerOptions();
        options.ApplyDefaults(ProxyMode.Standalone);
        var info = typeof(ListenerOptions).GetProperty(property)!;
        info.SetValue(options, info.PropertyType == typeof(TimeSpan)
            ? TimeSpan.Parse(value, System.Globalization.CultureInfo.InvariantCulture)
            : int.Parse(value, System.Globalization.CultureInfo.InvariantCulture));

        var result = new ListenerOptionsValidator(ProxyMode.Standalone).Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains(result.Failures!, f => f.StartsWith(expected, StringComparison.Ordinal));
    }
}
