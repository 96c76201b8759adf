using MetadataProxy.Operations;
using Microsoft.Extensions.Logging;

namespace MetadataProxy.UnitTests.Operations;

/// <summary>Issue 11: start-up phases are measured and logged only where Debug is on.</summary>
public sealed class StartupPhaseTests
{
    [Fact]
    public void Reached_DebugOn_LogsThePhaseWithWallCpuAndJitSoFar()
    {
        var logger = new RecordingLogger(LogLevel.Debug);

        StartupPhase.Reached(logger, "first pod list sent");

        var entry = Assert.Single(logger.Entries);
        Assert.Equal(LogLevel.Debug, entry.Level);
        Assert.StartsWith("Start-up: first pod list sent at ", entry.Message, StringComparison.Ordinal);
        var values = entry.State.ToDictionary(p => p.Key, p => p.Value);
        Assert.True((double)values["SinceStartMs"]! > 0, "the process started before this test ran");
        Assert.True((double)values["CpuMs"]! > 0, "this process has used CPU");
        Assert.True((long)values["JitMethods"]! > 0, "a JIT-compiled test host compiled methods");
    }

    [Fact]
    public void Reached_DebugOff_LogsNothing()
    {
        var logger = new RecordingLogger(LogLevel.Information);

        StartupPhase.Reached(logger, "host built");

        Assert.Empty(logger.Entries);
    }

    private sealed class RecordingLogger(LogLevel minimum) : ILogger
    {
        public List<(LogLevel Level, string Message, IReadOnlyList<KeyValuePair<string, object?>> State)> Entries { get; } = [];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= minimum;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
                Entries.Add((logLevel, formatter(state, exception), state as IReadOnlyList<KeyValuePair<string, object?>> ?? []));
        }
    }
}
