using MetadataProxy.Metadata;

namespace MetadataProxy.UnitTests.Metadata;

public sealed class MetadataOptionsValidatorTests
{
    [Fact]
    public void Validate_FixtureValues_Succeed()
    {
        var result = new MetadataOptionsValidator().Validate(null, new MetadataOptions
        {
            ProjectId = "test-project",
            NumericProjectId = "123456789012",
            InstanceId = "1234567890123456789",
            Zone = "us-central1-a",
        });
        Assert.True(result.Succeeded, result.FailureMessage);
    }

    [Theory]
    [InlineData("ProjectId", "Test_Project", "Metadata:ProjectId 'Test_Project'")]
    [InlineData("NumericProjectId", "12ab", "Metadata:NumericProjectId '12ab'")]
    [InlineData("NumericProjectId", "123\n", "Metadata:NumericProjectId")]
    [InlineData("InstanceId", "-1", "Metadata:InstanceId '-1'")]
    [InlineData("InstanceId", "18446744073709551616", "Metadata:InstanceId")]
    [InlineData("Zone", "moon-base-1", "Metadata:Zone 'moon-base-1'")]
    [InlineData("ServerHeader", "bad\r\nheader", "Metadata:ServerHeader")]
    public void Validate_BadValue_NamesTheKeyAndTheValue(string property, string value, string expected)
    {
        var options = new MetadataOptions { NumericProjectId = "1" };
        typeof(MetadataOptions).GetProperty(property)!.SetValue(options, value);
        var result = new MetadataOptionsValidator().Validate(null, options);
        Assert.True(result.Failed);
        Assert.Contains(result.Failures!, f => f.Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_ConcealedProjectAttribute_IsRefused()
    {
        var options = new MetadataOptions { ProjectAttributes = { ["kube-env"] = "secret" } };
        var result = new MetadataOptionsValidator().Validate(null, options);
        Assert.Contains(result.Failures!, f => f.Contains("concealed", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_ShortZoneWithoutProjectNumber_IsRefused()
    {
        var result = new MetadataOptionsValidator().Validate(null, new MetadataOptions { Zone = "us-central1-a" });
        Assert.Contains(result.Failures!, f => f.Contains("NumericProjectId", StringComparison.Ordinal));
    }
}
