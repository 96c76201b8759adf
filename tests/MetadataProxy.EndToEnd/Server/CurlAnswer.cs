using MetadataProxy.EndToEnd.Lab;

namespace MetadataProxy.EndToEnd.Server;

/// <summary>What curl got: its exit code (7: connection refused), the HTTP status (0 without a response) and the body.</summary>
public sealed record CurlAnswer(int ExitCode, int Status, string Body, string Error)
{
    /// <summary>The <c>--write-out</c> format that puts the status on a line of its own after the body.</summary>
    public const string WriteOut = "\n%{http_code}";

    public static CurlAnswer From(ProcessResult result)
    {
        var output = result.StandardOutput;
        var split = output.LastIndexOf('\n');
        var status = split >= 0 && int.TryParse(output.AsSpan(split + 1), out var code) ? code : 0;
        return new CurlAnswer(result.ExitCode, status, split >= 0 ? output[..split] : output, result.StandardError);
    }
}
