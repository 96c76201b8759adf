using System.Diagnostics;
using System.Net.Sockets;
using System.Text;

namespace MetadataProxy.FunctionalTests.Infrastructure;

/// <summary>The real executable in a process of its own, for what a process-wide setting decides (environment, exit codes).</summary>
internal sealed class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private ServerProcess(Process process, Uri metadataUri)
    {
        _process = process;
        MetadataUri = metadataUri;
    }

    public Uri MetadataUri { get; }

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

        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        _ = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return (process.ExitCode, await stderr);
    }

    /// <summary>Starts the server on a free loopback port with a clean environment plus <paramref name="environment"/>.</summary>
    public static async Task<ServerProcess> StartAsync(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var port = FreePort();
        var start = StartInfo();
        start.ArgumentList.Add($"--Listen:Metadata=http://127.0.0.1:{port}");
        start.ArgumentList.Add($"--Listen:Admin=http://127.0.0.1:{FreePort()}");
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        foreach (var name in new[] { "GOOGLE_APPLICATION_CREDENTIALS", "GCE_METADATA_HOST", "CLOUDSDK_CONFIG" })
            start.Environment.Remove(name);
        foreach (var (name, value) in environment)
            start.Environment[name] = value;

        var process = Process.Start(start)!;
        var server = new ServerProcess(process, new Uri($"http://127.0.0.1:{port}/"));
        var listening = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, e) => server.Append(e.Data, listening);
        process.ErrorDataReceived += (_, e) => server.Append(e.Data, listening);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await listening.Task.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }

        return server;
    }

    /// <summary>Sends SIGTERM, as the kubelet does when the pod is deleted.</summary>
    public async Task TerminateAsync()
    {
        using var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
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
        await _process.WaitForExitAsync();
        _process.Dispose();
    }

    private void Append(string? line, TaskCompletionSource listening)
    {
        if (line is null)
            return;
        lock (_output)
            _output.AppendLine(line);
        if (line.Contains($"Now listening on: {MetadataUri.AbsoluteUri.TrimEnd('/')}", StringComparison.Ordinal))
            listening.TrySetResult();
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
}
