namespace MetadataProxy.Benchmarks;

/// <summary>
/// Which benchmark to run: <c>plugin [runs] [binary]</c> for the credential provider's start-to-answer time,
/// <c>script [services] [backends] [before]</c> for the interception script on a node with many kube-proxy services,
/// <c>hotpath [footprint] [seconds] [connections] [rounds] [VAR=value …]</c> for the hot path against nginx and bare Kestrel floors (wrk, pinned),
/// <c>coldpath [requests] [warm-up] [VAR=value …]</c> for new pods' first tokens against the same upstream calls made directly
/// (by <c>coldpath-floor …</c>, its child),
/// <c>kestrel-floor PORT FILE</c> for that Kestrel floor itself, anything else (the default, unchanged) for the in-process
/// hot path: <c>[seconds] [clients]</c>.
/// </summary>
internal static class BenchmarkCommand
{
    public static Task Main(string[] args) =>
        args switch
        {
            ["plugin", .. var rest] => PluginBenchmark.RunAsync(rest),
            ["script", .. var rest] => ScriptBenchmark.RunAsync(rest),
            ["hotpath", .. var rest] => Floors.FloorsBenchmark.RunAsync(rest),
            ["kestrel-floor", .. var rest] => Floors.KestrelFloor.RunAsync(rest),
            ["coldpath", .. var rest] => ColdPath.ColdPathBenchmark.RunAsync(rest),
            ["coldpath-floor", .. var rest] => ColdPath.FloorProcess.ServeAsync(rest),
            _ => HotPathBenchmark.RunAsync(args),
        };

    public static bool IsDebug()
    {
#if DEBUG
        return true;
#else
        return false;
#endif
    }
}
