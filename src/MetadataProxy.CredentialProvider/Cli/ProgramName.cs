namespace MetadataProxy.CredentialProvider.Cli;

/// <summary>The name the process was started by (argv[0]), which decides whether it acts as the Docker credential helper.</summary>
internal static class ProgramName
{
    public const string DockerHelperName = "docker-credential-metadataproxy";

    /// <summary>
    /// Reads argv[0] from /proc/self/cmdline: Environment.ProcessPath and GetCommandLineArgs resolve the symlink
    /// (docker-credential-metadataproxy → metadata-proxy-credential-provider), so only the kernel's copy still has the
    /// name Docker used.
    /// </summary>
    public static string FromCommandLine()
    {
        try
        {
            var cmdline = File.ReadAllBytes("/proc/self/cmdline");
            var end = Array.IndexOf(cmdline, (byte)0);
            var argv0 = System.Text.Encoding.UTF8.GetString(cmdline, 0, end < 0 ? cmdline.Length : end);
            return Path.GetFileName(argv0);
        }
        catch (IOException)
        {
            return string.Empty;
        }
        catch (UnauthorizedAccessException)
        {
            return string.Empty;
        }
    }

    /// <summary>Docker runs helpers as docker-credential-NAME; any such name means the helper protocol.</summary>
    public static bool IsDockerHelper(string name) => name.StartsWith("docker-credential-", StringComparison.Ordinal);
}
