using MetadataProxy.Metadata;
using Microsoft.Extensions.Configuration;

namespace MetadataProxy.UnitTests.Metadata;

/// <summary>Attribute maps keep the order in which keys were set (the GKE node capture in spec/fixtures lists them so).</summary>
public sealed class ConfiguredAttributesTests
{
    [Fact]
    public void Read_ListForm_KeepsIndexOrderNotAlphabetical()
    {
        var attributes = Read(new()
        {
            ["A:0:Key"] = "zeta", ["A:0:Value"] = "1",
            ["A:1:Key"] = "alpha", ["A:1:Value"] = "2",
            ["A:2:Key"] = "Mid", ["A:2:Value"] = "3",
        });
        Assert.Equal(["zeta=1", "alpha=2", "Mid=3"], attributes.Select(a => $"{a.Key}={a.Value}"));
    }

    [Fact]
    public void Read_TenOrMoreEntries_AreInNumericIndexOrder()
    {
        var settings = new Dictionary<string, string?>();
        for (var i = 0; i < 12; i++)
        {
            settings[$"A:{i}:Key"] = $"k{11 - i}";
            settings[$"A:{i}:Value"] = $"{i}";
        }

        Assert.Equal(Enumerable.Range(0, 12).Select(i => $"k{11 - i}"), Read(settings).Keys);
    }

    [Fact]
    public void Read_MapForm_IsAcceptedAfterTheListEntries()
    {
        var attributes = Read(new()
        {
            ["A:team"] = "payments",
            ["A:0:Key"] = "zeta", ["A:0:Value"] = "1",
            ["A:empty"] = "",
        });
        Assert.Equal(["zeta=1", "empty=", "team=payments"], attributes.Select(a => $"{a.Key}={a.Value}"));
    }

    [Fact]
    public void Read_KeySetAgain_KeepsItsPlaceAndTakesTheNewValue()
    {
        var attributes = Read(new()
        {
            ["A:0:Key"] = "zeta", ["A:0:Value"] = "old",
            ["A:1:Key"] = "alpha", ["A:1:Value"] = "2",
            ["A:zeta"] = "new",
        });
        Assert.Equal(["zeta=new", "alpha=2"], attributes.Select(a => $"{a.Key}={a.Value}"));
    }

    [Fact]
    public void Read_ListEntryWithoutKey_BecomesAnEmptyKeyTheValidatorRefuses()
    {
        var options = new MetadataOptions { ProjectAttributes = Read(new() { ["A:0:Value"] = "orphan" }) };
        var result = new MetadataOptionsValidator().Validate(null, options);
        Assert.True(result.Failed);
        Assert.Contains("Metadata:ProjectAttributes key '' must be non-empty", result.FailureMessage, StringComparison.Ordinal);
    }

    private static OrderedDictionary<string, string> Read(Dictionary<string, string?> settings) =>
        ConfiguredAttributes.Read(new ConfigurationBuilder().AddInMemoryCollection(settings).Build().GetSection("A"));
}
