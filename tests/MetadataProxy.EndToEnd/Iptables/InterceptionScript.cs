using MetadataProxy.EndToEnd.Lab;

namespace MetadataProxy.EndToEnd.Iptables;

/// <summary>
/// <c>iptables/metadata-proxy-iptables.sh</c>, run inside the lab's node namespace so that only the lab's own netfilter
/// tables and lo change, with its lock file, hosts file and DMI product name in the lab's directory.
/// </summary>
public sealed class InterceptionScript(NetworkNamespaceLab lab)
{
    public const string Chain = "METADATA-PROXY";
    public const string HostChain = "METADATA-PROXY-HOST";

    /// <summary>The hosts file the script edits unless a test says otherwise: never the machine's, which uninstall would clean.</summary>
    public string HostsFile => Path.Combine(lab.WorkDirectory, "hosts");

    /// <summary>Where the script reads the machine's product name: absent unless a test writes it, so no test depends on the machine being a GCE VM.</summary>
    public string DmiProductNameFile => Path.Combine(lab.WorkDirectory, "dmi-product-name");

    public Task<ProcessResult> InstallAsync(IReadOnlyDictionary<string, string>? environment = null) => RunAsync("install", environment);

    public Task<ProcessResult> UninstallAsync(IReadOnlyDictionary<string, string>? environment = null) => RunAsync("uninstall", environment);

    public Task<ProcessResult> VerifyAsync(IReadOnlyDictionary<string, string>? environment = null) => RunAsync("verify", environment);

    /// <summary><c>verify --probe</c>: the rules, then a request from a pod-like namespace (README: the datapath probe).</summary>
    public Task<ProcessResult> VerifyProbeAsync(IReadOnlyDictionary<string, string>? environment = null) => RunAsync("verify", environment, null, "--probe");

    /// <summary>Runs <paramref name="command"/> with <paramref name="arguments"/>, optionally behind <paramref name="wrapper"/> (e.g. <c>setpriv …</c> to drop capabilities).</summary>
    public Task<ProcessResult> RunAsync(
        string command, IReadOnlyDictionary<string, string>? environment = null, IReadOnlyList<string>? wrapper = null, params string[] arguments)
    {
        var variables = new Dictionary<string, string>
        {
            ["METADATA_PROXY_LOCK_FILE"] = Path.Combine(lab.WorkDirectory, "iptables.lock"),
            ["HOSTS_FILE"] = HostsFile,
            ["DMI_PRODUCT_NAME_FILE"] = DmiProductNameFile,
        };
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
            variables[name] = value;
        return lab.ExecAsync(lab.NodeNamespace, [.. wrapper ?? [], RepositoryFiles.InterceptionScript, command, .. arguments], variables);
    }
}
