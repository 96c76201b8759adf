using MetadataProxy.EndToEnd.Iptables;
using MetadataProxy.EndToEnd.Lab;

namespace MetadataProxy.EndToEnd.Server;

/// <summary>
/// Issue 10, point 3, against the real server: when the server already listens on the DNAT target (a pod restarted
/// while the old server still serves), <c>verify --probe</c> starts no responder of its own and the server's canary
/// path answers the pod-like request through the real rules, with the nonce and the probe's address.
/// </summary>
public sealed class DatapathCanaryServerTests
{
    [Fact]
    public async Task VerifyProbe_ServerListening_TheServersCanaryAnswersThroughTheRules()
    {
        await using var lab = new ServerLab();
        await lab.InitializeAsync();
        lab.SkipUnlessBuilt();
        await LabRequirements.SkipUnlessAvailableAsync("unshare", "nsenter", "socat", "timeout", "ss");
        var settings = new Dictionary<string, string>(lab.InterceptionSettings) { ["PROBE_ADDRESS"] = "198.51.100.201" };

        var probe = await new InterceptionScript(lab.Lab).VerifyProbeAsync(settings);

        Assert.True(probe.ExitCode == 0, $"{probe}\nserver output:\n{lab.Server.Output}");
        Assert.Equal(
            "metadata-proxy-iptables: verify --probe: something listens on 169.254.169.252:8988 already; expecting MetadataProxy's canary answer\n",
            probe.StandardError);
        Assert.EndsWith(
            "verify --probe: ok (a request to 169.254.169.254:80 from 198.51.100.201 in a pod-like namespace reached 169.254.169.252:8988)\n",
            probe.StandardOutput,
            StringComparison.Ordinal);
    }
}
