using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace MetadataProxy.EndToEnd.Lab;

/// <summary>A long-running command (a server under test, say) whose output is kept; killed with its children on dispose.</summary>
public sealed partial class LabProcess : IAsyncDisposable
{
    private const int SigTerm = 15;
    private const int NoSuchProcess = 3; // ESRCH: it exited meanwhile

    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private int _disposed;

    private LabProcess(Process process) => _process = process;

    public bool HasExited => _process.HasExited;

    /// <summary>Completes once the process has exited and its output is read to the end: a wait on the process races it.</summary>
    public Task Exited { get; private set; } = Task.CompletedTask;

    public int ExitCode => _process.ExitCode;

    /// <summary>Standard output and error so far, interleaved by line.</summary>
    public string Output
    {
        get
        {
            lock (_output)
                return _output.ToString();
        }
    }

    public static LabProcess Start(IReadOnlyList<string> command, IReadOnlyDictionary<string, string>? environment)
    {
        var process = new Process { StartInfo = ProcessRunner.StartInfo(command, environment) };
        var lab = new LabProcess(process);
        process.OutputDataReceived += (_, e) => lab.Append(e.Data);
        process.ErrorDataReceived += (_, e) => lab.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        lab.Exited = process.WaitForExitAsync(CancellationToken.None);
        return lab;
    }

    /// <summary>
    /// Stops the process as the kubelet stops a container, with SIGTERM, and returns its exit code; kills it if it has
    /// not exited within <paramref name="patience"/>. <c>ip netns exec</c> execs the command, so the signal reaches it.
    /// </summary>
    public async Task<int> StopAsync(TimeSpan patience)
    {
        if (!_process.HasExited && Kill(_process.Id, SigTerm) != 0 && Marshal.GetLastPInvokeError() != NoSuchProcess)
            throw new InvalidOperationException($"kill(SIGTERM) failed with errno {Marshal.GetLastPInvokeError()}.");
        using var deadline = new CancellationTokenSource(patience);
        try
        {
            await _process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            await DisposeAsync();
            throw new TimeoutException($"The process did not stop within {patience} of SIGTERM; its output:\n{Output}");
        }

        return _process.ExitCode;
    }

    /// <summary>Kills the process tree; later calls do nothing (the lab disposes it too).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
            return;
        if (!_process.HasExited)
            _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
        _process.Dispose();
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    private void Append(string? line)
    {
        if (line is null)
            return;
        lock (_output)
            _output.AppendLine(line);
    }
}
