using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;

namespace MetadataProxy.Benchmarks.Floors;

/// <summary>
/// A server under measurement: its own process, pinned with <c>taskset</c>, its RSS read from /proc. Its output is kept:
/// a wait on it ends at once, with the exit code and that output, if the process exits first.
/// </summary>
internal sealed class PinnedProcess(Process process, string name) : IDisposable
{
    private const int AttemptsOnAddressInUse = 3;

    private readonly StringBuilder _output = new();
    private readonly List<(Regex Pattern, TaskCompletionSource<Match> Found)> _waiters = [];

    public string Name { get; } = name;

    public int Id => process.Id;

    /// <summary>Standard output and error so far, interleaved by line.</summary>
    public string Output
    {
        get
        {
            lock (_output)
                return _output.ToString();
        }
    }

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
        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var pinned = new PinnedProcess(process, name);
        // Drained, so that a chatty server never blocks on a full pipe; shown only if it fails.
        // BENCH_SERVER_LOG=PATH: every server's output is also kept there (start-up phases, from its own timestamps).
        var log = Environment.GetEnvironmentVariable("BENCH_SERVER_LOG") is { Length: > 0 } logPath ? TextWriter.Synchronized(File.AppendText(logPath)) : null;
        process.OutputDataReceived += (_, e) => { pinned.Append(e.Data); log?.WriteLine(e.Data); log?.Flush(); };
        process.ErrorDataReceived += (_, e) => { pinned.Append(e.Data); log?.WriteLine(e.Data); log?.Flush(); };
        process.Exited += (_, _) => { if (process.ExitCode != 0 && process.ExitCode != 137) Console.Error.Write($"{name} exited {process.ExitCode}:\n{pinned.Output}"); };
        if (!process.Start())
            throw new InvalidOperationException($"{name} did not start");
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return pinned;
    }

    /// <summary>
    /// Starts a server that must be told its port (nginx): on a fresh loopback port, and on another if something took
    /// that one between its choice and the server's bind (its output says "Address already in use"), at most three times.
    /// </summary>
    public static async Task<(PinnedProcess Process, int Port)> StartOnAFreePortAsync(Func<int, PinnedProcess> start, Func<int, Uri> url, TimeSpan timeout)
    {
        for (var attempt = 1; ; attempt++)
        {
            var port = FreePort();
            var started = start(port);
            try
            {
                await started.WaitForOkAsync(url(port), timeout);
                return (started, port);
            }
            catch (InvalidOperationException) when (attempt < AttemptsOnAddressInUse && started.Output.Contains("Address already in use", StringComparison.OrdinalIgnoreCase))
            {
                Console.Error.WriteLine($"{started.Name}: port {port} was taken before it bound it; trying another.");
                started.Dispose();
            }
            catch
            {
                started.Dispose();
                throw;
            }
        }
    }

    /// <summary>
    /// The first line of output that matches <paramref name="pattern"/> (a bound address the server reports, say);
    /// throws at once if the process exits before printing one, with its exit code and whole output.
    /// </summary>
    public async Task<Match> WaitForLineAsync(Regex pattern, TimeSpan timeout)
    {
        var found = new TaskCompletionSource<Match>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_output)
        {
            foreach (var line in _output.ToString().Split('\n'))
            {
                if (pattern.Match(line) is { Success: true } match)
                    return match;
            }

            _waiters.Add((pattern, found));
        }

        // WaitForExitAsync returns once the output is read to its end: the message then has all of it.
        var exited = process.WaitForExitAsync();
        try
        {
            if (await Task.WhenAny(found.Task, exited).WaitAsync(timeout) == found.Task)
                return await found.Task;
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"{Name} printed no line matching '{pattern}' within {timeout}; its output so far:\n{Output}");
        }

        throw new InvalidOperationException($"{Name} exited with {process.ExitCode} before printing a line matching '{pattern}'; its output:\n{Output}");
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

    /// <summary>Waits until <paramref name="url"/> answers 200; returns the time since the process started. Ends at once if the process exits.</summary>
    public async Task<TimeSpan> WaitForOkAsync(Uri url, TimeSpan timeout)
    {
        using var client = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(1) };
        var exited = process.WaitForExitAsync();
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < timeout)
        {
            try
            {
                var answer = client.GetAsync(url);
                if (await Task.WhenAny(answer, exited) == answer)
                {
                    using var response = await answer;
                    if (response.StatusCode == HttpStatusCode.OK)
                        return DateTime.Now - process.StartTime;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
            }

            if (exited.IsCompleted)
                throw new InvalidOperationException($"{Name} exited with {process.ExitCode} before {url} answered; its output:\n{Output}");
            await Task.Delay(5);
        }

        throw new TimeoutException($"{Name}: {url} did not answer 200 within {timeout}; its output so far:\n{Output}");
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

    private void Append(string? line)
    {
        if (line is null)
            return;
        lock (_output)
        {
            _output.AppendLine(line);
            foreach (var (pattern, found) in _waiters)
            {
                if (pattern.Match(line) is { Success: true } match)
                    found.TrySetResult(match);
            }
        }
    }

    private static int FreePort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }
}
