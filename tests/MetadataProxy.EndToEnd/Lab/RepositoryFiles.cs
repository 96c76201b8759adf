namespace MetadataProxy.EndToEnd.Lab;

/// <summary>Files of the repository under test, found from the test binary's folder upwards.</summary>
public static class RepositoryFiles
{
    private static readonly Lazy<string> RootDirectory = new(FindRoot);

    public static string Root => RootDirectory.Value;

    public static string InterceptionScript => Path.Combine(Root, "iptables", "metadata-proxy-iptables.sh");

    public static string Manifests => Path.Combine(Root, "manifests");

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "MetadataProxy.sln")))
                return directory.FullName;
        }

        throw new InvalidOperationException($"No MetadataProxy.sln above {AppContext.BaseDirectory}.");
    }
}
