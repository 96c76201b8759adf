namespace MetadataProxy.EndToEnd.Lab;

/// <summary>Why a lab cannot run here, so a test skips with that reason instead of failing or passing silently.</summary>
public static class LabRequirements
{
    private static readonly Lazy<Task<string?>> NamespaceProbe = new(ProbeNamespacesAsync);

    /// <summary>Skips the calling test unless it runs as root on Linux with <c>ip</c> and every tool named.</summary>
    public static async Task SkipUnlessAvailableAsync(params string[] tools)
    {
        if (await MissingAsync(tools) is { } reason)
            Assert.Skip(reason);
    }

    public static async Task<string?> MissingAsync(params string[] tools)
    {
        if (!OperatingSystem.IsLinux())
            return "End-to-end tests need Linux network namespaces.";
        if (!Environment.IsPrivilegedProcess)
            return "End-to-end tests need root (network namespaces, iptables); run them as root, as CI does.";
        var missing = tools.Prepend("ip").Where(t => FindOnPath(t) is null).ToList();
        if (missing.Count > 0)
            return $"End-to-end tests need {string.Join(", ", missing)} (apt-get install iptables iproute2 conntrack curl socat).";
        return await NamespaceProbe.Value;
    }

    public static string? FindOnPath(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "/usr/sbin:/usr/bin:/sbin:/bin")
            .Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Append("/usr/sbin").Append("/sbin")
            .Select(directory => Path.Combine(directory, tool))
            .FirstOrDefault(File.Exists);

    // Root is not always enough (a container without CAP_SYS_ADMIN, a seccomp profile): try once.
    private static async Task<string?> ProbeNamespacesAsync()
    {
        var name = $"mpxe2e-probe-{Environment.ProcessId}";
        var add = await ProcessRunner.RunAsync(["ip", "netns", "add", name]);
        if (!add.Succeeded)
            return $"End-to-end tests cannot create a network namespace here: {add.Output.Trim()}";
        await ProcessRunner.RunAsync(["ip", "netns", "del", name]);
        return null;
    }
}
