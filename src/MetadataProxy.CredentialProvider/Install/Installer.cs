using MetadataProxy.CredentialProvider.Cli;

namespace MetadataProxy.CredentialProvider.Install;

/// <summary>
/// install DIR: puts this very executable into the kubelet's credential-provider directory, from an init container
/// that has no shell or cp (a chiseled image). Atomic (temp file + rename) so a kubelet exec never sees half a file;
/// idempotent so every DaemonSet restart can run it.
/// </summary>
internal static class Installer
{
    public const string ExecutableName = "metadata-proxy-credential-provider";

    private const UnixFileMode Executable =
        UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
        | UnixFileMode.GroupRead | UnixFileMode.GroupExecute
        | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;

    /// <summary>The kernel's handle on the running executable: still readable if the file was replaced or deleted meanwhile.</summary>
    public const string SelfExecutable = "/proc/self/exe";

    public static Result<string> Run(string directory, string sourcePath, string? processPath)
    {
        // Run as "dotnet x.dll", /proc/self/exe is the dotnet host: copying that would install the wrong program.
        if (Path.GetFileName(processPath) is "dotnet" or "dotnet.exe")
            return Failure.Refused("install needs the published executable; it was started through the dotnet host");

        var target = Path.Combine(directory, ExecutableName);
        var link = Path.Combine(directory, ProgramName.DockerHelperName);
        var temporary = Path.Combine(directory, $".{ExecutableName}.{Environment.ProcessId}.tmp");
        var temporaryLink = Path.Combine(directory, $".{ProgramName.DockerHelperName}.{Environment.ProcessId}.tmp");
        try
        {
            Directory.CreateDirectory(directory);
            CopyDurably(sourcePath, temporary);
            File.Move(temporary, target, overwrite: true);

            // Relative, so the pair keeps working when the directory is mounted elsewhere (hostPath vs. the host's own path).
            File.Delete(temporaryLink);
            File.CreateSymbolicLink(temporaryLink, ExecutableName);
            File.Move(temporaryLink, link, overwrite: true);
            return Result<string>.Success($"installed {target} and {link} -> {ExecutableName}\n");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(temporary);
            TryDelete(temporaryLink);
            return Failure.Refused($"cannot install into {directory}: {e.Message}");
        }
    }

    private static void CopyDurably(string sourcePath, string destination)
    {
        using var source = new FileStream(sourcePath, FileMode.Open, FileAccess.Read, FileShare.Read);
        using var copy = new FileStream(
            destination,
            new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, UnixCreateMode = Executable });
        source.CopyTo(copy);
        copy.Flush(flushToDisk: true);
        File.SetUnixFileMode(copy.SafeFileHandle, Executable); // the umask may have narrowed UnixCreateMode
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Best effort: the failure already being reported matters more than a leftover temp file.
        }
        catch (UnauthorizedAccessException)
        {
            // As above.
        }
    }
}
