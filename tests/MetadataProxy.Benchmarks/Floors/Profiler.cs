using System.Diagnostics;
using System.Globalization;

namespace MetadataProxy.Benchmarks.Floors;

/// <summary>
/// Profile, don't guess: with BENCH_TRACE=DIR, dotnet-trace (BENCH_DOTNET_TRACE, or on PATH) records the server
/// during a measured run into DIR/NAME.nettrace, with BENCH_TRACE_PROFILE (default <c>dotnet-sampled-thread-time</c>;
/// <c>gc-verbose</c> for allocations). Read it with <c>dotnet-trace report FILE topN</c> or PerfView/speedscope.
/// BENCH_TRACE_PROFILE=perf records CPU samples with Linux perf instead (DIR/NAME.perf.data; give the server
/// DOTNET_PerfMapEnabled=1 so that perf names JIT-compiled methods): on-CPU time, which thread-time sampling is not.
/// </summary>
internal static class Profiler
{
    public static IDisposable? Attach(PinnedProcess target, string name, int seconds)
    {
        if (Environment.GetEnvironmentVariable("BENCH_TRACE") is not { Length: > 0 } directory)
            return null;
        Directory.CreateDirectory(directory);
        var stem = Path.Combine(directory, string.Concat(name.Split(' ', '/', '.').Where(p => p.Length > 0).Take(2)));
        if (Environment.GetEnvironmentVariable("BENCH_TRACE_PROFILE") == "perf")
            return new Collection(Process.Start("perf", ["record", "-F", "1999", "-g", "-p", target.Id.ToString(CultureInfo.InvariantCulture), "-o", stem + ".perf.data", "--", "sleep", Math.Max(2, seconds - 1).ToString(CultureInfo.InvariantCulture)]));
        var file = stem + ".nettrace";
        var info = new ProcessStartInfo(Environment.GetEnvironmentVariable("BENCH_DOTNET_TRACE") ?? "dotnet-trace") { UseShellExecute = false, RedirectStandardOutput = true };
        foreach (var argument in new[]
        {
            "collect", "-p", target.Id.ToString(CultureInfo.InvariantCulture), "-o", file,
            "--profile", Environment.GetEnvironmentVariable("BENCH_TRACE_PROFILE") ?? "dotnet-sampled-thread-time",
            "--duration", TimeSpan.FromSeconds(Math.Max(2, seconds - 1)).ToString(@"hh\:mm\:ss", CultureInfo.InvariantCulture),
        })
        {
            info.ArgumentList.Add(argument);
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException("dotnet-trace did not start");
        return new Collection(process);
    }

    private sealed class Collection(Process process) : IDisposable
    {
        public void Dispose()
        {
            process.WaitForExit(TimeSpan.FromSeconds(30));
            process.Dispose();
        }
    }
}
