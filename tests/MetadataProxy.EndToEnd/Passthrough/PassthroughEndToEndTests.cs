using MetadataProxy.EndToEnd.Server;

namespace MetadataProxy.EndToEnd.Passthrough;

/// <summary>
/// Issue 12, end to end: pods ask 169.254.169.254 as on a VM; allowed VM values come from the VM's own metadata
/// server over the node's uplink, and the VM's service account and secrets never reach a pod.
/// </summary>
public sealed class PassthroughEndToEndTests(PassthroughServerLab fixture) : IClassFixture<PassthroughServerLab>
{
    private const string V1 = "http://169.254.169.254/computeMetadata/v1";

    [Fact]
    public async Task AllowedVmValue_PodAsks_GetsTheVmsValueFromUpstream()
    {
        var lab = fixture.Server;
        lab.SkipUnlessBuilt();

        var answer = await lab.CurlAsync(lab.Writer.Namespace, $"{V1}/instance/machine-type");

        Assert.Equal(new CurlAnswer(0, 200, "projects/999/machineTypes/e2-standard-4", ""), answer);
        var received = Assert.Single(fixture.Upstream.Received, r => r.RawTarget == "/computeMetadata/v1/instance/machine-type");
        Assert.Equal("Google", received.Headers["Metadata-Flavor"]);
        Assert.DoesNotContain(received.Headers.Keys, h => h.StartsWith("X-Forwarded", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task ServiceAccountToken_PodAsks_GetsItsOwnTokenNeverTheVms()
    {
        var lab = fixture.Server;
        lab.SkipUnlessBuilt();

        var token = await lab.CurlAsync(lab.Writer.Namespace, $"{V1}/instance/service-accounts/default/token");
        var email = await lab.CurlAsync(lab.Writer.Namespace, $"{V1}/instance/service-accounts/default/email");
        var vmAccount = await lab.CurlAsync(lab.Writer.Namespace, $"{V1}/instance/service-accounts/vm-sa@vm-project.iam.gserviceaccount.com/token");
        var kubeEnv = await lab.CurlAsync(lab.Writer.Namespace, $"{V1}/instance/attributes/kube-env");

        Assert.Equal(200, token.Status);
        Assert.DoesNotContain(PassthroughServerLab.VmSecret, token.Body, StringComparison.Ordinal);
        Assert.Equal(new CurlAnswer(0, 200, ServerLab.WriterGsa, ""), email);
        Assert.Equal(404, vmAccount.Status);
        Assert.Equal(404, kubeEnv.Status);
        Assert.DoesNotContain(PassthroughServerLab.VmSecret, vmAccount.Body + kubeEnv.Body, StringComparison.Ordinal);
        Assert.DoesNotContain(fixture.Upstream.Received, r => r.RawTarget.Contains("service-accounts", StringComparison.Ordinal)
                                                               || r.RawTarget.Contains("kube-env", StringComparison.Ordinal));
    }
}
