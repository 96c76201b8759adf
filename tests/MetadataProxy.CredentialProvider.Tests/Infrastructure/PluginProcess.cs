using System.Diagnostics;
using System.Text;

namespace MetadataProxy.CredentialProvider.Tests.Infrastructure;

/// <summary>Execs the real plugin binary as the kubelet and Docker do: arguments, environment, stdin; then reads stdout, stderr and the exit code.</summary>
internal static class PluginProcess
{
    private static readonly string[] InheritedSettings =
        ["METADATA_PROXY_SOCKET", "METADATA_PROXY_REGISTRIES", "GCE_METADATA_HOST"];

    /// <summary>Runs <paramref name="executable"/> (the apphost, or a symlink to it); stdin is written then closed, or left open when null.</summary>
    public static async Task<PluginRun> RunAsync(
        string executable,
        IEnumerable<string> args,
        byte[]? stdin,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(executable)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        foreach (var name in InheritedSettings)
            start.Environment.Remove(name);
        start.Environment["DOTNET_ROOT"] = PluginBinary.DotnetRoot;
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
            start.Environment[name] = value;

        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            try
            {
                await process.StandardInput.BaseStream.WriteAsync(stdin);
                process.StandardInput.Close();
            }
            catch (IOException)
            {
                // The plugin may stop reading (a cap) and exit before all of stdin is written: that is its right.
            }
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{executable} did not exit within 30 s");
        }

        clock.Stop();
        return new PluginRun(process.ExitCode, await stdout, await stderr, clock.Elapsed);
    }

    public static Task<PluginRun> RunAsync(string executable, IEnumerable<string> args, string stdin, IReadOnlyDictionary<string, string>? environment = null) =>
        RunAsync(executable, args, Encoding.UTF8.GetBytes(stdin), environment);
}
