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
        _ => [],
    };
}
