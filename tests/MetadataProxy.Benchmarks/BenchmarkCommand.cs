namespace MetadataProxy.Benchmarks;

/// <summary>
/// Which benchmark to run: <c>plugin [runs] [binary]</c> for the credential provider's start-to-answer time, anything
/// else (the default, unchanged) for the hot path: <c>[seconds] [clients]</c>.
/// </summary>
internal static class BenchmarkCommand
{
    public static Task Main(string[] args) =>
        args is ["plugin", .. var rest] ? PluginBenchmark.RunAsync(rest) : HotPathBenchmark.RunAsync(args);

    public static bool IsDebug()
    {
#if DEBUG
        return true;
#else
        return false;
#endif
    }
}
