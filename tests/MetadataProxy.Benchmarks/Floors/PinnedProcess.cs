using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace MetadataProxy.Benchmarks.Floors;

/// <summary>A server under measurement: its own process, pinned with <c>taskset</c>, its RSS read from /proc.</summary>
internal sealed class PinnedProcess(Process process, string name) : IDisposable
{
    public string Name { get; } = name;

    public int Id => process.Id;

    public static PinnedProcess Start(string name, string core, string file, IEnumerable<string> arguments, IDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo("taskset") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(core);
        info.ArgumentList.Add(file);
        foreach (var argument in arguments)
            info.ArgumentList.Add(argument);
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
            info.Environment[key] = value;
        var process = Process.Start(info) ?? throw new InvalidOperationException($"{name} did not start");
        // Drained, so that a chatty server never blocks on a full pipe; shown only if it fails.
        var output = new System.Text.StringBuilder();
        // BENCH_SERVER_LOG=PATH: every server's output is also kept there (start-up phases, from its own timestamps).
        var log = Environment.GetEnvironmentVariable("BENCH_SERVER_LOG") is { Length: > 0 } logPath ? TextWriter.Synchronized(File.AppendText(logPath)) : null;
        process.OutputDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); log?.WriteLine(e.Data); log?.Flush(); };
        process.ErrorDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); log?.WriteLine(e.Data); log?.Flush(); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        process.Exited += (_, _) => { if (process.ExitCode != 0 && process.ExitCode != 137) lock (output) Console.Error.Write($"{name} exited {process.ExitCode}:\n{output}"); };
        process.EnableRaisingEvents = true;
        return new PinnedProcess(process, name);
    }

    /// <summary>CPU time the process has used so far (user + system, /proc/PID/stat), in milliseconds.</summary>
    public double CpuMilliseconds()
    {
        var stat = File.ReadAllText($"/proc/{process.Id}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' '); // fields from the third (state) on
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture); // utime, stime
        return ticks * 1000.0 / 100; // USER_HZ is 100 on Linux
    }

    /// <summary>Resident set size in MiB (VmRSS), or the peak (VmHWM).</summary>
    public double RssMiB(bool peak = false)
    {
        var key = peak ? "VmHWM:" : "VmRSS:";
        foreach (var line in File.ReadLines($"/proc/{process.Id}/status"))
        {
            if (line.StartsWith(key, StringComparison.Ordinal))
                return long.Parse(line[key.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) / 1024.0;
        }

        return double.NaN;
    }

    /// <summary>
    /// Where the resident memory is, from /proc/PID/smaps: anonymous memory (GC heap, JIT'd code, native
    /// allocations), the W^X double mapping of JIT'd code, and each mapped file (assemblies, native libraries).
    /// </summary>
    public IReadOnlyList<(string Mapping, double MiB)> RssByMapping()
    {
        var totals = new Dictionary<string, long>(StringComparer.Ordinal);
        var current = "[anonymous]";
        foreach (var line in File.ReadLines($"/proc/{process.Id}/smaps"))
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length >= 5 && fields[0].Contains('-', StringComparison.Ordinal) && !fields[0].EndsWith(':'))
            {
                var name = fields.Length >= 6 ? string.Join(' ', fields[5..]) : "[anonymous]";
                current = name.Contains("doublemapper", StringComparison.Ordinal) ? "[executable memory, double-mapped]" : name.StartsWith('/') ? Path.GetFileName(name) : name.StartsWith('[') ? name : "[anonymous]";
            }
            else if (fields.Length >= 2 && fields[0] == "Rss:")
            {
                totals[current] = totals.GetValueOrDefault(current) + long.Parse(fields[1], CultureInfo.InvariantCulture);
            }
        }

        return [.. totals.OrderByDescending(t => t.Value).Select(t => (t.Key, t.Value / 1024.0))];
    }

    /// <summary>Waits until <paramref name="url"/> answers 200; returns the time since the process started.</summary>
    public async Task<TimeSpan> WaitForOkAsync(Uri url, TimeSpan timeout)
    {
        using var client = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(1) };
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < timeout)
        {
            if (process.HasExited)
                throw new InvalidOperationException($"{Name} exited with {process.ExitCode} before {url} answered");
            try
            {
                using var response = await client.GetAsync(url);
                if (response.StatusCode == HttpStatusCode.OK)
                    return DateTime.Now - process.StartTime;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
            }

            await Task.Delay(5);
        }

        throw new TimeoutException($"{Name}: {url} did not answer 200 within {timeout}");
    }

    public static int FreePort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    public void Dispose()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit(5000);
        }

        process.Dispose();
    }
}
