using System.Text.RegularExpressions;
using MetadataProxy.EndToEnd.Lab;

namespace MetadataProxy.EndToEnd.Iptables;

/// <summary>Reads and seeds the netfilter tables of a lab's node namespace.</summary>
public static partial class NodeTables
{
    public static string Tool(IptablesBackend backend, int family, string suffix = "") =>
        $"{(family == 6 ? "ip6tables" : "iptables")}-{(backend == IptablesBackend.Nft ? "nft" : "legacy")}{suffix}";

    /// <summary>
    /// What kube-proxy leaves on a node (a service chain jumped to from PREROUTING and OUTPUT, a POSTROUTING chain, a
    /// conntrack-state rule in FORWARD), in both families: a node is never empty, these rules must come through install
    /// and uninstall untouched, and like a real node the namespace tracks connections before the script runs.
    /// </summary>
    public static async Task SeedKubeProxyRulesAsync(NetworkNamespaceLab lab, IptablesBackend backend)
    {
        foreach (var family in new[] { 4, 6 })
        {
            var tool = Tool(backend, family);
            string[][] rules =
            [
                ["-N", "KUBE-SERVICES"],
                ["-A", "PREROUTING", "-m", "comment", "--comment", "kubernetes service portals", "-j", "KUBE-SERVICES"],
                ["-A", "OUTPUT", "-m", "comment", "--comment", "kubernetes service portals", "-j", "KUBE-SERVICES"],
                ["-N", "KUBE-POSTROUTING"],
                ["-A", "POSTROUTING", "-m", "comment", "--comment", "kubernetes postrouting rules", "-j", "KUBE-POSTROUTING"],
                ["-A", "KUBE-POSTROUTING", "-m", "mark", "!", "--mark", "0x4000/0x4000", "-j", "RETURN"],
            ];
            foreach (var rule in rules)
                (await lab.ExecAsync(lab.NodeNamespace, [tool, "-w", "-t", "nat", .. rule], null)).EnsureSuccess();
            string[][] filterRules =
            [
                ["-N", "KUBE-FORWARD"],
                ["-A", "FORWARD", "-m", "comment", "--comment", "kubernetes forwarding rules", "-j", "KUBE-FORWARD"],
                ["-A", "KUBE-FORWARD", "-m", "conntrack", "--ctstate", "INVALID", "-j", "DROP"],
            ];
            foreach (var rule in filterRules)
                (await lab.ExecAsync(lab.NodeNamespace, [tool, "-w", "-t", "filter", .. rule], null)).EnsureSuccess();
        }
    }

    /// <summary>
    /// <c>iptables-save</c> of one family in the node, without its timestamp comments and with packet counters zeroed:
    /// everything that is configuration, byte for byte.
    /// </summary>
    public static async Task<string> SaveAsync(NetworkNamespaceLab lab, IptablesBackend backend, int family)
    {
        var saved = (await lab.ExecAsync(lab.NodeNamespace, Tool(backend, family, "-save"))).EnsureSuccess();
        var lines = saved.StandardOutput.Split('\n').Where(line => !line.StartsWith('#'));
        return Counters().Replace(string.Join('\n', lines), "[0:0]");
    }

    /// <summary>The rules (<c>-A …</c> lines) of the nat table of one family in the node.</summary>
    public static async Task<IReadOnlyList<string>> NatRulesAsync(NetworkNamespaceLab lab, IptablesBackend backend, int family)
    {
        var saved = (await lab.ExecAsync(lab.NodeNamespace, Tool(backend, family, "-save"), "-t", "nat")).EnsureSuccess();
        return [.. saved.StandardOutput.Split('\n').Where(line => line.StartsWith("-A ", StringComparison.Ordinal))];
    }

    /// <summary>The addresses on the node's lo, one per line as <c>ip -o addr</c> prints them.</summary>
    public static async Task<string> LoopbackAddressesAsync(NetworkNamespaceLab lab) =>
        (await lab.ExecAsync(lab.NodeNamespace, "ip", "-o", "addr", "show", "dev", "lo")).EnsureSuccess().StandardOutput;

    [GeneratedRegex(@"\[\d+:\d+\]")]
    private static partial Regex Counters();
}
