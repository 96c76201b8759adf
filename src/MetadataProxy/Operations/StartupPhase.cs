using System.Diagnostics;
using System.Runtime;

namespace MetadataProxy.Operations;

/// <summary>
/// Where start → ready goes (issue 11, profile before changing): each phase of the start is logged at Debug by the
/// class that reaches it, with the wall time since the process started, the process's CPU time and the JIT's work
/// so far. Nothing is measured unless Debug is on for that class (<c>Logging__LogLevel__MetadataProxy=Debug</c>).
/// </summary>
internal static partial class StartupPhase
{
    // Real time on purpose, not the injected clock: this measures the process itself, it never decides or waits.
    private static readonly Lazy<DateTime> ProcessStart = new(() =>
    {
        using var process = Process.GetCurrentProcess();
        return process.StartTime.ToUniversalTime();
    });

    public static void Reached(ILogger logger, string phase)
    {
        if (!logger.IsEnabled(LogLevel.Debug))
            return;
        var sinceStart = (DateTime.UtcNow - ProcessStart.Value).TotalMilliseconds;
        var cpu = Environment.CpuUsage.TotalTime.TotalMilliseconds;
        var jit = JitInfo.GetCompilationTime().TotalMilliseconds;
        var methods = JitInfo.GetCompiledMethodCount();
        Log.Phase(logger, phase, sinceStart, cpu, methods, jit);
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Debug,
            Message = "Start-up: {Phase} at {SinceStartMs:0} ms after the process started; CPU {CpuMs:0} ms, {JitMethods} methods JIT-compiled in {JitMs:0} ms")]
        public static partial void Phase(ILogger logger, string phase, double sinceStartMs, double cpuMs, long jitMethods, double jitMs);
    }
}
