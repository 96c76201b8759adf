using MetadataProxy.Hosting;
using MetadataProxy.Upstream;
using Microsoft.Extensions.Configuration;

namespace MetadataProxy.UnitTests.Hosting;

public sealed class ConfigurationProblemsTests
{
    // The reflection binder (the JIT build's) refuses an unknown enum name with a FormatException inside.
    [Fact]
    public void From_ReflectionBinderRefusingAnEnumName_NamesTheKeyAndTheValue()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Upstream:Mode"] = "Always" }).Build();
        var refusal = Assert.Throws<InvalidOperationException>(() => { _ = configuration.GetValue<UpstreamMode>("Upstream:Mode"); });

        var problem = Assert.Single(ConfigurationProblems.From(refusal));

        Assert.StartsWith("Failed to convert configuration value 'Always' at 'Upstream:Mode'", problem, StringComparison.Ordinal);
    }

    // The source-generated binder (a NativeAOT publish's) wraps Enum.Parse's ArgumentException instead: the exception
    // as that build threw it for --Upstream:Mode=Always.
    [Fact]
    public void From_GeneratedBinderRefusingAnEnumName_NamesTheKeyAndTheValue()
    {
        var refusal = new InvalidOperationException(
            "Failed to convert configuration value 'Always' at 'Upstream:Mode' to type 'MetadataProxy.Upstream.UpstreamMode'.",
            new ArgumentException("Requested value 'Always' was not found."));

        var problem = Assert.Single(ConfigurationProblems.From(refusal));

        Assert.Equal(
            "Failed to convert configuration value 'Always' at 'Upstream:Mode' to type 'MetadataProxy.Upstream.UpstreamMode'. Requested value 'Always' was not found.",
            problem);
    }

    // Any other InvalidOperationException is a bug or a fault, not a configuration problem: it must not exit 2 as one.
    [Fact]
    public void From_AnotherInvalidOperationWithAnArgumentException_IsNoConfigurationProblem()
    {
        var fault = new InvalidOperationException("Sequence contains no matching element", new ArgumentException("key"));

        Assert.Empty(ConfigurationProblems.From(fault));
    }
}
