using MetadataProxy.FunctionalTests.Infrastructure;
using MetadataProxy.FunctionalTests.Kubernetes;

namespace MetadataProxy.FunctionalTests.Fairness;

/// <summary>One HTTP handler for every Google call: accounts share one connection pool instead of one each.</summary>
public sealed class SharedConnectionPoolTests(KubernetesLab lab) : IClassFixture<KubernetesLab>
{
    private const string Sa = "/computeMetadata/v1/instance/service-accounts/default";
    private const string Ns = "pool";

    [Fact]
    public async Task ManyAccounts_OneSharedConnectionPoolToGoogle()
    {
        var before = lab.Google.ConnectionsSeen;
        for (var i = 0; i < 12; i++)
        {
            var ksa = $"pool-{i}";
            var gsa = $"pool-{i}@test-project.iam.gserviceaccount.com";
            var ip = $"127.0.0.{130 + i}";
            lab.Google.AllowImpersonation(KubernetesLab.PrincipalOf(Ns, ksa), gsa);
            lab.AddPod(Ns, $"{ksa}-pod", ip, ksa, gsa: gsa);
            await lab.WaitForEmailAsync(ip, gsa);
            using var client = lab.Client(ip);
            var (token, tokenBody) = await client.GetWithBodyAsync($"{Sa}/token");
            Assert.True(token.StatusCode == HttpStatusCode.OK, tokenBody);
            var (identity, identityBody) = await client.GetWithBodyAsync($"{Sa}/identity?audience=https://pool.example");
            Assert.True(identity.StatusCode == HttpStatusCode.OK, identityBody);
        }

        // 12 accounts × (STS + generateAccessToken + generateIdToken): with a handler per credential chain this was
        // at least 24 connections; one shared pool reuses a few.
        var opened = lab.Google.ConnectionsSeen - before;
        Assert.InRange(opened, 0, 4);
    }
}
