using System.Globalization;

namespace MetadataProxy.Benchmarks.ColdPath;

/// <summary>
/// CPU time a process has used (user + system, from /proc/PID/stat), in milliseconds: what the server spends per cold
/// request whatever else runs on the machine, where the wall-clock overhead also counts the waits for a busy core.
/// </summary>
internal static class ProcessCpu
{
    private const double TicksPerSecond = 100; // USER_HZ, 100 on every Linux architecture .NET runs on

    public static double Milliseconds(int processId)
    {
        var stat = File.ReadAllText($"/proc/{processId}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' '); // after "pid (comm) ": field 3 (state) is fields[0]
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return ticks * 1000 / TicksPerSecond;
    }
}
