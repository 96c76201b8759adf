namespace MetadataProxy.EndToEnd.Lab;

/// <summary>What a finished command printed and returned.</summary>
public sealed record ProcessResult(string CommandLine, int ExitCode, string StandardOutput, string StandardError)
{
    public bool Succeeded => ExitCode == 0;

    /// <summary>Both streams, for assertion messages and for checks that do not care where a line went.</summary>
    public string Output => StandardOutput + StandardError;

    public ProcessResult EnsureSuccess() =>
        Succeeded ? this : throw new InvalidOperationException($"`{CommandLine}` exited {ExitCode}:\n{Output}");

    public override string ToString() => $"`{CommandLine}` exited {ExitCode}:\n{Output}";
}
