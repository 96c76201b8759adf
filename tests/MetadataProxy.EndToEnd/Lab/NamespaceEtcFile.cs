namespace MetadataProxy.EndToEnd.Lab;

/// <summary>
/// <c>/etc/netns/&lt;namespace&gt;/&lt;name&gt;</c>, which <c>ip netns exec</c> bind-mounts over <c>/etc/&lt;name&gt;</c> for the
/// commands it runs in that namespace: how a pod gets an <c>/etc/hosts</c> of its own. It lies outside the lab's
/// directory, so disposing deletes it together with the directories it had to create.
/// </summary>
public sealed class NamespaceEtcFile : IAsyncDisposable
{
    private const string Root = "/etc/netns";

    private readonly bool _createdRoot;
    private readonly string _directory;
    private int _disposed;

    private NamespaceEtcFile(string path, bool createdRoot)
    {
        Path = path;
        _directory = System.IO.Path.GetDirectoryName(path)!;
        _createdRoot = createdRoot;
    }

    public string Path { get; }

    /// <summary>Writes <paramref name="content"/>; refuses to replace a file that is already there (not the lab's).</summary>
    public static NamespaceEtcFile Write(string networkNamespace, string name, string content)
    {
        if (name != System.IO.Path.GetFileName(name) || name is "" or "." or "..")
            throw new ArgumentException($"{name} is not a file name.", nameof(name));
        var createdRoot = !Directory.Exists(Root);
        var path = System.IO.Path.Combine(Root, networkNamespace, name);
        var file = new NamespaceEtcFile(path, createdRoot);
        try
        {
            Directory.CreateDirectory(file._directory);
            using var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write);
            using var writer = new StreamWriter(stream);
            writer.Write(content);
            return file;
        }
        catch
        {
            file.Delete();
            throw;
        }
    }

    /// <summary>Deletes the file and the directories it created; later calls do nothing (the lab disposes it too).</summary>
    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
            Delete();
        return ValueTask.CompletedTask;
    }

    private void Delete()
    {
        File.Delete(Path);
        DeleteIfEmpty(_directory);
        if (_createdRoot)
            DeleteIfEmpty(Root);
    }

    private static void DeleteIfEmpty(string directory)
    {
        if (Directory.Exists(directory) && !Directory.EnumerateFileSystemEntries(directory).Any())
            Directory.Delete(directory);
    }
}
