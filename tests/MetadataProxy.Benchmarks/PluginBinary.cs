using System.Diagnostics;
using System.Runtime.InteropServices;

namespace MetadataProxy.Benchmarks;

/// <summary>
/// The NativeAOT <c>metadata-proxy-credential-provider</c>, as the DaemonSet installs it on a node: the path given, or
/// published from the repository's source for this machine's runtime (an up-to-date publish is incremental).
/// </summary>
internal static class PluginBinary
{
    private const string Project = "src/MetadataProxy.CredentialProvider/MetadataProxy.CredentialProvider.csproj";

    public static async Task<string> LocateAsync(string? given)
    {
        if (given is not null)
            return File.Exists(given) ? Path.GetFullPath(given) : throw new FileNotFoundException($"No plugin binary at {given}.", given);

        var repository = RepositoryRoot();
        var rid = RuntimeInformation.OSArchitecture == Architecture.Arm64 ? "linux-arm64" : "linux-x64";
        var output = Path.Combine(repository, "src/MetadataProxy.CredentialProvider/bin/Release/net10.0", rid, "publish");
        Console.WriteLine($"Publishing the plugin NativeAOT ({rid}) into {output} ...");
        var publish = new ProcessStartInfo("dotnet") { WorkingDirectory = repository, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { "publish", Project, "-c", "Release", "-r", rid, "-o", output, "--nologo", "-v", "quiet" })
            publish.ArgumentList.Add(argument);
        using var process = Process.Start(publish)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"dotnet publish failed ({process.ExitCode}); NativeAOT needs clang and zlib1g-dev:\n{await stdout}{await stderr}");

        var binary = Path.Combine(output, "metadata-proxy-credential-provider");
        // NativeAOT publishes one native executable and no managed assembly beside it.
        if (File.Exists(binary + ".dll"))
            throw new InvalidOperationException($"{output} holds a managed build, not the NativeAOT one.");
        return binary;
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "MetadataProxy.sln")))
                return directory.FullName;
        }

        throw new InvalidOperationException($"No MetadataProxy.sln above {AppContext.BaseDirectory}; pass the plugin binary's path.");
    }
}
