using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace MetadataProxy.Benchmarks.Floors;

/// <summary>
/// What of the idle RSS is the managed heap: the server's own <c>dotnet_total_memory_bytes</c> (prometheus-net's
/// DotNetStats, GC.GetTotalMemory) from its /metrics, and with BENCH_GCDUMP=PATH a gcdump of the idle server (needs
/// <c>dotnet tool install -g dotnet-gcdump</c>) whose report's largest types are printed. The dump forces a full GC in
/// the server: it is taken after every RSS figure of the idle state.
/// </summary>
internal static partial class Heap
{
    public static async Task PrintAsync(PinnedProcess server, Uri metrics)
    {
        using var client = new HttpClient();
        var text = await client.GetStringAsync(metrics);
        var total = TotalMemory().Match(text);
        Console.WriteLine(total.Success
            ? $"managed heap in use (dotnet_total_memory_bytes): {double.Parse(total.Groups[1].Value, CultureInfo.InvariantCulture) / (1 << 20):0.0} MiB"
            : "managed heap in use: dotnet_total_memory_bytes not in /metrics");
        if (Environment.GetEnvironmentVariable("BENCH_GCDUMP") is not { Length: > 0 } path)
            return;
        var tool = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".dotnet", "tools", "dotnet-gcdump");
        if (!File.Exists(tool))
            tool = "dotnet-gcdump";
        Console.WriteLine((await RunAsync(tool, "collect", "-p", server.Id.ToString(CultureInfo.InvariantCulture), "-o", path)).Trim());
        var report = (await RunAsync(tool, "report", path)).Split('\n');
        Console.WriteLine("gcdump report, largest types:\n" + string.Join('\n', report.Take(25)));
    }

    private static async Task<string> RunAsync(string file, params string[] arguments)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
            info.ArgumentList.Add(argument);
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"{file} did not start");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return process.ExitCode == 0 ? await output : throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} exited {process.ExitCode}: {await output}{await error}");
    }

    [GeneratedRegex(@"^dotnet_total_memory_bytes\s+([\d.eE+]+)", RegexOptions.Multiline)]
    private static partial Regex TotalMemory();
}
