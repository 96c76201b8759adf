namespace MetadataProxy.Hosting;

/// <summary>Configuration that cannot start the server; each problem is one line for the operator.</summary>
internal sealed class ConfigurationProblemsException(IReadOnlyList<string> problems)
    : Exception(string.Join(Environment.NewLine, problems))
{
    public IReadOnlyList<string> Problems { get; } = problems;
}
