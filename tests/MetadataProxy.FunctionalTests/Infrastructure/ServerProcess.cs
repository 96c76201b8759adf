using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;

namespace MetadataProxy.FunctionalTests.Infrastructure;

/// <summary>
/// The real executable in a process of its own, for what a process-wide setting decides (environment, exit codes).
/// A start that fails says why at once: the process's exit code and its whole output, not a timeout 30 s later.
/// </summary>
internal sealed partial class ServerProcess : IAsyncDisposable
{
    public static readonly TimeSpan StartPatience = TimeSpan.FromSeconds(30);

    // The metadata listener takes loopback port 0 and the test reads the port Kestrel reports ("Now listening on"):
    // a port chosen before the start could be taken by a parallel test in between. The admin listener, also port 0,
    // is on another loopback address so that its line is never mistaken for the metadata one.
    private const string MetadataHost = "127.0.0.1";
    private const string AdminListen = "--Listen:Admin=http://127.0.0.2:0";
    private const int AttemptsOnAddressInUse = 3;

    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly TaskCompletionSource<Uri> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ServerProcess(Process process) => _process = process;

    public Uri MetadataUri { get; private set; } = null!;

    public string Output
    {
        get
        {
            lock (_output)
                return _output.ToString();
        }
    }

    /// <summary>Runs the server to its exit (a start refused by its configuration), at most 30 s: its exit code and standard error.</summary>
    public static async Task<(int ExitCode, string Stderr)> RunToExitAsync(params string[] args)
    {
        var start = StartInfo();
        start.ArgumentList.Add("--Listen:Admin=http://127.0.0.1:0");
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        if (!args.Any(a => a.StartsWith("--Listen:Metadata", StringComparison.Ordinal)))
            start.ArgumentList.Add("--Listen:Metadata=http://127.0.0.1:0");

        using var process = new Process { StartInfo = start };
        var stderr = new StringBuilder();
        var output = new StringBuilder(); // both streams interleaved, for a timeout's message
        process.OutputDataReceived += (_, e) => Collect(e.Data, output, null);
        process.ErrorDataReceived += (_, e) => Collect(e.Data, output, stderr);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            // Also waits until both streams are read to their end, so stderr is whole.
            await process.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(StartPatience, TestContext.Current.CancellationToken);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            throw new TimeoutException($"The server was expected to exit, but still ran after {StartPatience}; its output so far:\n{Text(output)}");
        }

        return (process.ExitCode, Text(stderr));
    }

    /// <summary>
    /// <see cref="RunToExitAsync"/> with a loopback port the arguments must name before the start (a check that the
    /// server reaches itself there, say): a fresh one, and again on another if something took it in between.
    /// </summary>
    public static async Task<(int ExitCode, string Stderr, int Port)> RunToExitOnAFreePortAsync(Func<int, string[]> args)
    {
        for (var attempt = 1; ; attempt++)
        {
            var port = FreePort();
            var (exitCode, stderr) = await RunToExitAsync(args(port));
            if (!IsAddressInUse(stderr, port) || attempt == AttemptsOnAddressInUse)
                return (exitCode, stderr, port);
            TestContext.Current.SendDiagnosticMessage($"Port {port} was taken between its choice and the server's start; trying another (attempt {attempt + 1}).");
        }
    }

    /// <summary>Starts the server on loopback port 0 with a clean environment plus <paramref name="environment"/>.</summary>
    public static Task<ServerProcess> StartAsync(IReadOnlyDictionary<string, string> environment, params string[] args) =>
        StartAsync(environment, StartPatience, args);

    /// <summary>
    /// As <see cref="StartAsync(IReadOnlyDictionary{string, string}, string[])"/>, waiting at most <paramref name="patience"/>
    /// for the metadata listener. Throws at once if the process exits first, with its exit code and output.
    /// </summary>
    public static async Task<ServerProcess> StartAsync(IReadOnlyDictionary<string, string> environment, TimeSpan patience, params string[] args)
    {
        var start = StartInfo();
        start.ArgumentList.Add($"--Listen:Metadata=http://{MetadataHost}:0");
        start.ArgumentList.Add(AdminListen);
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        foreach (var name in new[] { "GOOGLE_APPLICATION_CREDENTIALS", "GCE_METADATA_HOST", "CLOUDSDK_CONFIG" })
            start.Environment.Remove(name);
        foreach (var (name, value) in environment)
            start.Environment[name] = value;

        var process = new Process { StartInfo = start };
        var server = new ServerProcess(process);
        process.OutputDataReceived += (_, e) => server.Append(e.Data);
        process.ErrorDataReceived += (_, e) => server.Append(e.Data);
        var clock = Stopwatch.StartNew();
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            // Whichever comes first: the listener's line, or the exit (WaitForExitAsync returns once the output is read to its end).
            var exited = process.WaitForExitAsync(TestContext.Current.CancellationToken);
            var first = await Task.WhenAny(server._listening.Task, exited).WaitAsync(patience, TestContext.Current.CancellationToken);
            if (first == server._listening.Task)
            {
                server.MetadataUri = await server._listening.Task;
                return server;
            }

            await exited; // a cancelled test ends here
            throw new InvalidOperationException(
                $"The server exited with code {process.ExitCode} {clock.Elapsed.TotalSeconds:0.0} s after its start, before listening on {MetadataHost}; its output:\n{server.Output}");
        }
        catch (TimeoutException)
        {
            await server.DisposeAsync();
            throw new TimeoutException($"The server did not listen on {MetadataHost} within {patience}; its output so far:\n{server.Output}");
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>Sends SIGTERM, as the kubelet does when the pod is deleted.</summary>
    public async Task TerminateAsync()
    {
        using var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync(TestContext.Current.CancellationToken);
    }

    /// <summary>The exit code, or null if the process still runs after <paramref name="within"/>.</summary>
    public async Task<int?> ExitCodeAsync(TimeSpan within)
    {
        try
        {
            await _process.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(within, TestContext.Current.CancellationToken);
            return _process.ExitCode;
        }
        catch (TimeoutException)
        {
            return null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
            _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync(CancellationToken.None);
        _process.Dispose();
    }

    /// <summary>Kestrel's "Failed to bind to address http://…:PORT: address already in use." (an unhandled exception, so also on stderr).</summary>
    internal static bool IsAddressInUse(string output, int port) =>
        output.Contains($":{port.ToString(CultureInfo.InvariantCulture)}: address already in use", StringComparison.Ordinal);

    private void Append(string? line)
    {
        if (line is null)
            return;
        lock (_output)
            _output.AppendLine(line);
        if (MetadataListening().Match(line) is { Success: true } listening)
            _listening.TrySetResult(new Uri($"http://{MetadataHost}:{listening.Groups["port"].Value}/"));
    }

    private static void Collect(string? line, StringBuilder all, StringBuilder? stream)
    {
        if (line is null)
            return;
        lock (all)
        {
            all.AppendLine(line);
            stream?.AppendLine(line);
        }
    }

    private static string Text(StringBuilder builder)
    {
        lock (builder)
            return builder.ToString();
    }

    /// <summary>
    /// <c>dotnet MetadataProxy.dll</c> beside the tests, as the image runs it; or, when <c>METADATAPROXY_SERVER_EXE</c>
    /// names one, that executable (a NativeAOT publish, README: Performance), so these tests run against that build.
    /// </summary>
    private static ProcessStartInfo StartInfo()
    {
        var exe = Environment.GetEnvironmentVariable("METADATAPROXY_SERVER_EXE");
        var start = new ProcessStartInfo(string.IsNullOrEmpty(exe) ? "dotnet" : exe)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        if (string.IsNullOrEmpty(exe))
            start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "MetadataProxy.dll"));
        return start;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [GeneratedRegex(@"Now listening on: http://127\.0\.0\.1:(?<port>[0-9]+)\b")]
    private static partial Regex MetadataListening();
}
