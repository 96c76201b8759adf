using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;

namespace MetadataProxy.FunctionalTests.Registry;

/// <summary>Execs the real <c>metadata-proxy-credential-provider</c> as the kubelet does: arguments, stdin, then stdout, stderr, exit code.</summary>
internal static class Plugin
{
    private static readonly string AppHost = typeof(Plugin).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "PluginAppHost").Value!;

    public sealed record Run(int ExitCode, string Stdout, string Stderr, TimeSpan Elapsed);

    public static Task<Run> ExecAsync(string stdin, params string[] args) => ExecAsync(stdin, args, socketVariable: null);

    public static async Task<Run> ExecAsync(string stdin, string[] args, string? socketVariable)
    {
        var start = new ProcessStartInfo(AppHost) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        start.Environment.Remove("METADATA_PROXY_SOCKET");
        if (socketVariable is not null)
            start.Environment["METADATA_PROXY_SOCKET"] = socketVariable;
        start.Environment["DOTNET_ROOT"] = Path.GetFullPath(Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", ".."));
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.StandardInput.WriteAsync(stdin);
        process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(timeout.Token);
        return new Run(process.ExitCode, await stdout, await stderr, clock.Elapsed);
    }
}
