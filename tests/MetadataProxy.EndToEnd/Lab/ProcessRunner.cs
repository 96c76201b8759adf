using System.Diagnostics;

namespace MetadataProxy.EndToEnd.Lab;

/// <summary>Runs a command without a shell (arguments are never re-parsed) and collects its output.</summary>
public static class ProcessRunner
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(60);

    public static async Task<ProcessResult> RunAsync(
        IReadOnlyList<string> command,
        IReadOnlyDictionary<string, string>? environment = null,
        TimeSpan? timeout = null,
        string? standardInput = null,
        CancellationToken cancellationToken = default)
    {
        using var process = new Process { StartInfo = StartInfo(command, environment) };
        process.StartInfo.RedirectStandardInput = standardInput is not null;
        var commandLine = string.Join(' ', command);
        process.Start();
        var output = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var error = process.StandardError.ReadToEndAsync(CancellationToken.None);
        if (standardInput is not null)
        {
            await process.StandardInput.WriteAsync(standardInput);
            process.StandardInput.Close();
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout ?? DefaultTimeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            throw new TimeoutException($"`{commandLine}` did not finish in {timeout ?? DefaultTimeout}:\n{await output}{await error}");
        }

        return new ProcessResult(commandLine, process.ExitCode, await output, await error);
    }

    internal static ProcessStartInfo StartInfo(IReadOnlyList<string> command, IReadOnlyDictionary<string, string>? environment)
    {
        var start = new ProcessStartInfo(command[0].Contains('/', StringComparison.Ordinal) ? command[0] : LabRequirements.FindOnPath(command[0]) ?? command[0])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in command.Skip(1))
            start.ArgumentList.Add(argument);
        // A proxy from the developer's or CI's environment must never carry lab traffic anywhere.
        foreach (var name in new[] { "http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY" })
            start.Environment.Remove(name);
        // Tools such as iptables live in sbin, which a non-login root shell may not have on PATH.
        var path = start.Environment.TryGetValue("PATH", out var inherited) && !string.IsNullOrEmpty(inherited) ? inherited : "/usr/bin:/bin";
        start.Environment["PATH"] = path + ":/usr/sbin:/sbin";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
            start.Environment[name] = value;
        return start;
    }
}
