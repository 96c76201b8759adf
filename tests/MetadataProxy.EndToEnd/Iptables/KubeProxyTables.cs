using System.Globalization;
using System.Text;

namespace MetadataProxy.EndToEnd.Iptables;

/// <summary>
/// The nat table kube-proxy (iptables mode) writes for <c>services</c> ClusterIP services with one endpoint each:
/// KUBE-SERVICES jumped to from PREROUTING and OUTPUT, one rule there per service, a KUBE-SVC-* chain per service
/// (masquerade mark and the jump to its endpoint) and a KUBE-SEP-* chain per endpoint (mark and DNAT): five rules and
/// two chains per service, as iptables-restore input so that a big table loads in one transaction.
/// </summary>
public static class KubeProxyTables
{
    public static string RestoreInput(int services)
    {
        var text = new StringBuilder(services * 700);
        text.Append("*nat\n:KUBE-SERVICES - [0:0]\n:KUBE-MARK-MASQ - [0:0]\n:KUBE-POSTROUTING - [0:0]\n");
        for (var i = 0; i < services; i++)
            text.Append(CultureInfo.InvariantCulture, $":KUBE-SVC-{i:X16} - [0:0]\n:KUBE-SEP-{i:X16} - [0:0]\n");
        text.Append("-A PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES\n");
        text.Append("-A OUTPUT -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES\n");
        text.Append("-A POSTROUTING -m comment --comment \"kubernetes postrouting rules\" -j KUBE-POSTROUTING\n");
        text.Append("-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000\n");
        for (var i = 0; i < services; i++)
        {
            var name = $"ns{i}/svc{i}:http";
            var clusterIp = $"10.96.{i / 250}.{(i % 250) + 1}";
            var endpoint = $"10.{64 + (i / 62500)}.{i / 250 % 250}.{(i % 250) + 1}";
            text.Append(CultureInfo.InvariantCulture, $"-A KUBE-SERVICES -d {clusterIp}/32 -p tcp -m comment --comment \"{name} cluster IP\" -m tcp --dport 80 -j KUBE-SVC-{i:X16}\n");
            text.Append(CultureInfo.InvariantCulture, $"-A KUBE-SVC-{i:X16} ! -s 10.64.0.0/14 -d {clusterIp}/32 -p tcp -m comment --comment \"{name} cluster IP\" -m tcp --dport 80 -j KUBE-MARK-MASQ\n");
            text.Append(CultureInfo.InvariantCulture, $"-A KUBE-SVC-{i:X16} -m comment --comment \"{name} -> {endpoint}:8080\" -j KUBE-SEP-{i:X16}\n");
            text.Append(CultureInfo.InvariantCulture, $"-A KUBE-SEP-{i:X16} -s {endpoint}/32 -m comment --comment \"{name}\" -j KUBE-MARK-MASQ\n");
            text.Append(CultureInfo.InvariantCulture, $"-A KUBE-SEP-{i:X16} -p tcp -m comment --comment \"{name}\" -m tcp -j DNAT --to-destination {endpoint}:8080\n");
        }

        text.Append("COMMIT\n");
        return text.ToString();
    }
}
