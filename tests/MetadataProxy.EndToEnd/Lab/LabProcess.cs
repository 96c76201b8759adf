using System.Diagnostics;
using System.Text;

namespace MetadataProxy.EndToEnd.Lab;

/// <summary>A long-running command (a server under test, say) whose output is kept; killed with its children on dispose.</summary>
public sealed class LabProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private int _disposed;

    private LabProcess(Process process) => _process = process;

    public bool HasExited => _process.HasExited;

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
        return lab;
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

    private void Append(string? line)
    {
        if (line is null)
            return;
        lock (_output)
            _output.AppendLine(line);
    }
}
