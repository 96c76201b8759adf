using System.Diagnostics;

namespace MetadataProxy.Benchmarks;

/// <summary>One exec as the kubelet does it: start, request on stdin, stdout read to the end, exit; timed from start to exit.</summary>
internal static class ExecTiming
{
    public sealed record Run(double Milliseconds, int ExitCode, string Stdout, string Stderr);

    public static async Task<Run> ExecAsync(string executable, IReadOnlyList<string> arguments, string stdin)
    {
        var start = new ProcessStartInfo(executable)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        var started = Stopwatch.GetTimestamp();
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            await process.StandardInput.WriteAsync(stdin);
            process.StandardInput.Close();
        }
        catch (IOException)
        {
            // A process that never reads stdin (the /bin/true floor) may have exited already: a broken pipe.
        }

        await process.WaitForExitAsync();
        var output = await stdout;
        var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        return new Run(elapsed, process.ExitCode, output, await stderr);
    }

    public static (double P50, double P90, double Max) Percentiles(IReadOnlyCollection<double> milliseconds)
    {
        var sorted = milliseconds.Order().ToArray();
        return (sorted[sorted.Length / 2], sorted[(int)(sorted.Length * 0.9)], sorted[^1]);
    }
}
