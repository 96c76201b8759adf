using Microsoft.Extensions.Options;

namespace MetadataProxy.Hosting;

internal static class ConfigurationProblems
{
    /// <summary>Every configuration problem an exception carries (start-up validation aggregates one per options type).</summary>
    public static IReadOnlyList<string> From(Exception exception) => exception switch
    {
        ConfigurationProblemsException problems => problems.Problems,
        OptionsValidationException validation => validation.Failures.ToList(),
        AggregateException aggregate => aggregate.InnerExceptions.SelectMany(From).ToList(),
        // The binder's own refusal of a value it cannot convert (an unknown enum name, a malformed duration): the key and
        // the value are in its message, and the key's own rule follows from the options that use it. The reflection binder
        // wraps a FormatException; the source-generated one (EnableConfigurationBindingGenerator, on in a NativeAOT
        // publish) wraps Enum.Parse's ArgumentException for an unknown enum name.
        InvalidOperationException { InnerException: { } cause and (FormatException or ArgumentException) } binding
            when binding.Message.StartsWith("Failed to convert configuration value", StringComparison.Ordinal)
            => [$"{binding.Message} {cause.Message}"],
        _ => [],
    };
}
