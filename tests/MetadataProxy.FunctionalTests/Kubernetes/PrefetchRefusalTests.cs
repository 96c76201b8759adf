using MetadataProxy.FunctionalTests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace MetadataProxy.FunctionalTests.Kubernetes;

/// <summary>
/// Every event of a pod (status, labels, a relist) prefetches its token. For an account Google refuses, that prefetch
/// must answer the refusal the cache remembers until its retry time (~10 s, 5–15 s jittered), as a request would,
/// rather than send another TokenRequest, STS exchange and IAM call per event. The server runs on a fake clock.
/// </summary>
public sealed class PrefetchRefusalTests
{
    private const string Address = "127.0.0.61";
    private const string ModifiedEvents = "metadata_proxy_pod_watch_events_total{type=\"modified\"}";

    [Fact]
    public async Task RefusedAccount_PodUpdatesWithinTheRefusal_SendNothingToKubernetesOrGoogle_ThenOneCallAfterIt()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow); // the test servers' tokens are dated in real time
        var lab = new KubernetesLab { Time = clock };
        await lab.InitializeAsync();
        try
        {
            // No impersonation binding for this Google service account: IAM answers 403, which the cache remembers.
            lab.AddPod("denied", "web", Address, "web", gsa: "unbound@test-project.iam.gserviceaccount.com");
            await KubernetesLab.WaitUntilAsync(() => Task.FromResult(lab.Google.GenerateAccessTokenCalls >= 1));
            var (response, body) = await lab.Client(Address).GetWithBodyAsync("/computeMetadata/v1/instance/service-accounts/default/token");
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode); // the prefetch's refusal (joined or remembered)
            Assert.Contains("iam.serviceAccounts.getAccessToken", body, StringComparison.Ordinal);
            var (tokenRequests, sts, iam) = (lab.Kube.TokenRequests, lab.Google.StsCalls, lab.Google.GenerateAccessTokenCalls);
            Assert.Equal(1, iam);

            // The clock stands still: the refusal stands through twelve updates, each applied (and prefetched) before
            // the next, so none can join a call an earlier one started.
            var modified = await lab.MetricAsync(ModifiedEvents);
            for (var i = 1; i <= 12; i++)
            {
                Relabel(lab, i);
                await KubernetesLab.WaitUntilAsync(async () => await lab.MetricAsync(ModifiedEvents) >= modified + i);
            }

            // Past the longest retry time, the next update is the one that asks Google again.
            clock.Advance(TimeSpan.FromSeconds(16));
            Relabel(lab, 13);
            await KubernetesLab.WaitUntilAsync(() => Task.FromResult(lab.Google.GenerateAccessTokenCalls >= iam + 1));
            (response, _) = await lab.Client(Address).GetWithBodyAsync("/computeMetadata/v1/instance/service-accounts/default/token");
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode); // remembered again: no call of its own

            Assert.Equal(iam + 1, lab.Google.GenerateAccessTokenCalls);
            Assert.Equal(sts, lab.Google.StsCalls); // the federated token is still good: no exchange
            Assert.Equal(tokenRequests, lab.Kube.TokenRequests); // nor a new Kubernetes token
        }
        finally
        {
            await lab.DisposeAsync();
        }
    }

    private static void Relabel(KubernetesLab lab, int revision) =>
        lab.Kube.UpdatePod("denied", "web", p => p.Metadata.Labels = new Dictionary<string, string>
        {
            ["rev"] = revision.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
}
