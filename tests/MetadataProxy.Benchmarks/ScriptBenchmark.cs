using System.Diagnostics;
using System.Globalization;
using MetadataProxy.EndToEnd.Iptables;

namespace MetadataProxy.Benchmarks;

/// <summary>
/// The interception script's peak memory and time on a node with many kube-proxy services: a network namespace per
/// backend and script version, loaded with <c>services</c> ClusterIP services (iptables-restore), then
/// install, verify, install again, uninstall and uninstall again, each under GNU time (wall seconds; peak RSS of
/// the largest process of the script's tree). With <c>before</c>, a git revision, that revision's script is measured
/// the same way first. Needs root, ip, iptables-nft/-legacy, conntrack and /usr/bin/time.
/// Usage: dotnet run -c Release --project tests/MetadataProxy.Benchmarks -- script [services] [nft,legacy] [before]
/// </summary>
internal static class ScriptBenchmark
{
    private static readonly string[] Commands = ["install", "verify", "install", "uninstall", "uninstall"];

    public static async Task RunAsync(string[] args)
    {
        var services = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 10_000;
        var backends = (args.Length > 1 ? args[1] : "nft,legacy").Split(',', StringSplitOptions.RemoveEmptyEntries);
        var before = args.Length > 2 ? args[2] : null;
        var repository = PluginBinary.RepositoryRoot();
        var work = Directory.CreateTempSubdirectory("metadata-proxy-script-bench-");
        try
        {
            var tables = Path.Combine(work.FullName, "kube-proxy-nat");
            await File.WriteAllTextAsync(tables, KubeProxyTables.RestoreInput(services));
            var scripts = new List<(string Name, string Path)>();
            if (before is not null)
            {
                var old = Path.Combine(work.FullName, "before.sh");
                await File.WriteAllTextAsync(old, (await ExecAsync(["git", "-C", repository, "show", $"{before}:iptables/metadata-proxy-iptables.sh"])).EnsureSuccess().Stdout);
                scripts.Add(($"before ({before})", old));
            }

            scripts.Add(("this tree", Path.Combine(repository, "iptables", "metadata-proxy-iptables.sh")));
            Console.WriteLine($"{services} kube-proxy services ({5 * services} nat rules), IPv4; {Environment.ProcessorCount} CPUs, {Model()}");
            Console.WriteLine($"{"script",-22} {"backend",-7} {"command",-10} {"exit",4} {"seconds",8} {"peak MiB",9}");
            foreach (var backend in backends)
            {
                foreach (var (name, path) in scripts)
                    await MeasureAsync(work.FullName, tables, backend, name, path);
            }
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    private static async Task MeasureAsync(string work, string tables, string backend, string name, string script)
    {
        var netns = $"mpxbench-{Environment.ProcessId}";
        (await ExecAsync(["ip", "netns", "add", netns])).EnsureSuccess();
        try
        {
            (await ExecAsync(["ip", "netns", "exec", netns, "ip", "link", "set", "lo", "up"])).EnsureSuccess();
            var load = Stopwatch.StartNew();
            (await ExecAsync(["ip", "netns", "exec", netns, $"iptables-{backend}-restore", "--noflush", tables])).EnsureSuccess();
            Console.WriteLine($"  (tables loaded into {backend} in {load.Elapsed.TotalSeconds:F1} s; load average {LoadAverage()})");
            var environment = new Dictionary<string, string>
            {
                ["IPTABLES_BACKEND"] = "auto",
                ["IPV6"] = "off",
                ["UPLINK_INTERFACE"] = "eth0",
                ["METADATA_PROXY_LOCK_FILE"] = Path.Combine(work, "lock"),
                ["HOSTS_FILE"] = Path.Combine(work, "hosts"),
                ["DMI_PRODUCT_NAME_FILE"] = Path.Combine(work, "dmi"),
            };
            var report = Path.Combine(work, "time");
            foreach (var command in Commands)
            {
                var run = await ExecAsync(["ip", "netns", "exec", netns, "/usr/bin/time", "-o", report, "-f", "%e %M", "--", "bash", script, command], environment);
                var measured = File.ReadAllLines(report).Last(line => line.Length > 0).Split(' ');
                var peakMib = long.Parse(measured[1], CultureInfo.InvariantCulture) / 1024.0;
                Console.WriteLine($"{name,-22} {backend,-7} {command,-10} {run.ExitCode,4} {measured[0],8} {peakMib,9:F1}");
                if (run.ExitCode != 0)
                    Console.WriteLine($"  {run.Stderr.Trim().Split('\n')[^1]}");
            }
        }
        finally
        {
            await ExecAsync(["ip", "netns", "del", netns]);
        }
    }

    private static string LoadAverage() => File.ReadAllText("/proc/loadavg").Split(' ')[0];

    private static string Model() =>
        File.ReadLines("/proc/cpuinfo").FirstOrDefault(line => line.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown CPU";

    private sealed record Result(string CommandLine, int ExitCode, string Stdout, string Stderr)
    {
        public Result EnsureSuccess() =>
            ExitCode == 0 ? this : throw new InvalidOperationException($"`{CommandLine}` exited {ExitCode}: {Stderr}");
    }

    private static async Task<Result> ExecAsync(IReadOnlyList<string> command, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(command[0]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in command.Skip(1))
            start.ArgumentList.Add(argument);
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
            start.Environment[key] = value;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return new Result(string.Join(' ', command), process.ExitCode, await stdout, await stderr);
    }
}
