using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace MetadataProxy.Benchmarks.Floors;

/// <summary>One wrk run (<c>-t1 -cN -dS --latency</c>, pinned): throughput, p50/p99 and the non-2xx count, from its output.</summary>
internal sealed partial record Wrk(double PerSecond, double P50, double P99, long Non2xx, long Requests)
{
    public static async Task<Wrk> RunAsync(string core, Uri url, int connections, int seconds, PinnedProcess target, Action<double>? peakRss = null)
    {
        var info = new ProcessStartInfo("taskset") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { "-c", core, "wrk", "-t1", $"-c{connections}", $"-d{seconds}s", "--latency", "-H", "Metadata-Flavor: Google", url.ToString() })
            info.ArgumentList.Add(argument);
        using var wrk = Process.Start(info) ?? throw new InvalidOperationException("wrk did not start");
        var output = wrk.StandardOutput.ReadToEndAsync();
        var error = wrk.StandardError.ReadToEndAsync();
        // RSS under load, sampled halfway through.
        await Task.Delay(TimeSpan.FromSeconds(seconds / 2.0));
        peakRss?.Invoke(target.RssMiB());
        await wrk.WaitForExitAsync();
        var text = await output;
        if (wrk.ExitCode != 0)
            throw new InvalidOperationException($"wrk failed: {text}{await error}");
        return new Wrk(
            Number(RequestsPerSecond(), text),
            Milliseconds("50%", text),
            Milliseconds("99%", text),
            Non2xxResponses().Match(text) is { Success: true } m ? long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : 0,
            (long)Number(RequestsTotal(), text));
    }

    private static double Number(Regex regex, string text) =>
        regex.Match(text) is { Success: true } m ? double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : throw new FormatException($"wrk said: {text}");

    private static double Milliseconds(string percentile, string text)
    {
        var m = Regex.Match(text, $@"^\s*{Regex.Escape(percentile)}\s+([\d.]+)(us|ms|s)\s*$", RegexOptions.Multiline);
        if (!m.Success)
            throw new FormatException($"no {percentile} in wrk's output: {text}");
        var value = double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
        return m.Groups[2].Value switch { "us" => value / 1000, "s" => value * 1000, _ => value };
    }

    [GeneratedRegex(@"Requests/sec:\s+([\d.]+)")]
    private static partial Regex RequestsPerSecond();

    [GeneratedRegex(@"(\d+) requests in")]
    private static partial Regex RequestsTotal();

    [GeneratedRegex(@"Non-2xx or 3xx responses:\s+(\d+)")]
    private static partial Regex Non2xxResponses();
}
