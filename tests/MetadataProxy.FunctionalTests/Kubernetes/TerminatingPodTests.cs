using System.Diagnostics;
using System.Text.Json;
using k8s.Models;
using MetadataProxy.FunctionalTests.Infrastructure;

namespace MetadataProxy.FunctionalTests.Kubernetes;

/// <summary>
/// Issue 9, row 7: a terminating pod whose containers still run (its shutdown hooks) keeps its identity, cached
/// token included, unless another pod claims or may have been given its address.
/// </summary>
public sealed class TerminatingPodTests(KubernetesLab lab) : IClassFixture<KubernetesLab>
{
    private const string Sa = "/computeMetadata/v1/instance/service-accounts/default";
    private const string Terminating = "metadata_proxy_caller_resolutions_total{outcome=\"terminating\"}";

    [Fact]
    public async Task TerminatingPod_KeepsItsIdentityAndCachedTokenWithoutWaiting()
    {
        const string Gsa = "drain@test-project.iam.gserviceaccount.com";
        lab.Google.AllowImpersonation(KubernetesLab.PrincipalOf("term", "drain"), Gsa);
        lab.AddPod("term", "drain-1", "127.0.0.90", "drain", gsa: Gsa);
        var before = await TokenAsync("127.0.0.90");

        var terminatingEvents = await lab.MetricAsync(Terminating);
        lab.Kube.MarkPodTerminating("term", "drain-1");
        await KubernetesLab.WaitUntilAsync(async () =>
        {
            var (response, _) = await lab.Client("127.0.0.90").GetWithBodyAsync($"{Sa}/email");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return await lab.MetricAsync(Terminating) > terminatingEvents;
        });
        terminatingEvents = await lab.MetricAsync(Terminating);

        for (var i = 0; i < 5; i++)
        {
            var clock = Stopwatch.StartNew();
            var (response, body) = await lab.Client("127.0.0.90").GetWithBodyAsync($"{Sa}/token");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(before, AccessToken(body));
            Assert.True(clock.Elapsed < TimeSpan.FromMilliseconds(500), $"a terminating pod's cached token took {clock.Elapsed}");
        }

        var (emailResponse, email) = await lab.Client("127.0.0.90").GetWithBodyAsync($"{Sa}/email");
        Assert.Equal(HttpStatusCode.OK, emailResponse.StatusCode);
        Assert.Equal(Gsa, email);
        Assert.Equal(terminatingEvents + 6, await lab.MetricAsync(Terminating));
    }

    [Fact]
    public async Task TerminatingPod_LosesItsAddressToANewLivePod()
    {
        lab.AddPod("term", "old-1", "127.0.0.91", "old", gsa: "old@test-project.iam.gserviceaccount.com");
        await lab.WaitForEmailAsync("127.0.0.91", "old@test-project.iam.gserviceaccount.com");
        lab.Kube.MarkPodTerminating("term", "old-1");
        lab.AddPod("term", "new-1", "127.0.0.91", "new", gsa: "new@test-project.iam.gserviceaccount.com");

        await lab.WaitForEmailAsync("127.0.0.91", "new@test-project.iam.gserviceaccount.com");
        for (var i = 0; i < 5; i++)
            Assert.Equal("new@test-project.iam.gserviceaccount.com", (await lab.Client("127.0.0.91").GetWithBodyAsync($"{Sa}/email")).Body);
    }

    [Fact]
    public async Task TerminatingPod_WhileAnotherPodAwaitsAnAddress_IsRefusedAsContended()
    {
        lab.AddPod("term", "leaving-1", "127.0.0.92", "leaving", gsa: "leaving@test-project.iam.gserviceaccount.com");
        await lab.WaitForEmailAsync("127.0.0.92", "leaving@test-project.iam.gserviceaccount.com");
        lab.Kube.MarkPodTerminating("term", "leaving-1");
        lab.AddPod("term", "arriving-1", "127.0.0.92", "arriving", edit: p => p.Status = new V1PodStatus { Phase = "Pending" });
        try
        {
            var (response, body) = (default(HttpResponseMessage)!, "");
            await KubernetesLab.WaitUntilAsync(async () =>
            {
                (response, body) = await lab.Client("127.0.0.92").GetWithBodyAsync($"{Sa}/email");
                return response.StatusCode != HttpStatusCode.OK;
            });
            Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable, $"{response.StatusCode}: {body}");
            Assert.Contains("The pod at 127.0.0.92 is terminating and 1 pod(s) on this node are waiting for an address", body, StringComparison.Ordinal);
            Assert.DoesNotContain("leaving-1", body, StringComparison.Ordinal);
            Assert.DoesNotContain("arriving-1", body, StringComparison.Ordinal);
            Assert.True(await lab.MetricAsync("metadata_proxy_caller_resolutions_total{outcome=\"terminating_contended\"}") >= 1);

            // The waiting pod gets another address: the terminating pod's identity is served again.
            lab.Kube.UpdatePod("term", "arriving-1", p => p.Status = new V1PodStatus { Phase = "Running", PodIP = "127.0.0.93" });
            await lab.WaitForEmailAsync("127.0.0.92", "leaving@test-project.iam.gserviceaccount.com");
        }
        finally
        {
            lab.Kube.DeletePod("term", "arriving-1");
        }
    }

    [Fact]
    public async Task TerminatingPodWhoseContainersStopped_IsRefused()
    {
        lab.AddPod("term", "stopped-1", "127.0.0.94", "stopped", gsa: "stopped@test-project.iam.gserviceaccount.com");
        await lab.WaitForEmailAsync("127.0.0.94", "stopped@test-project.iam.gserviceaccount.com");
        lab.Kube.MarkPodTerminating("term", "stopped-1");
        lab.Kube.UpdatePod("term", "stopped-1", p => p.Status.ContainerStatuses =
        [
            new V1ContainerStatus
            {
                Name = "app", Image = "app:1", ImageID = "app:1", Ready = false, RestartCount = 0,
                State = new V1ContainerState { Terminated = new V1ContainerStateTerminated { ExitCode = 0 } },
            },
        ]);
        var (response, body) = (default(HttpResponseMessage)!, "");
        await KubernetesLab.WaitUntilAsync(async () =>
        {
            (response, body) = await lab.Client("127.0.0.94").GetWithBodyAsync($"{Sa}/email");
            return response.StatusCode != HttpStatusCode.OK;
        });
        Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable, $"{response.StatusCode}: {body}");
        Assert.Contains("No live pod", body, StringComparison.Ordinal);
    }

    private async Task<string> TokenAsync(string ip)
    {
        string? token = null;
        await KubernetesLab.WaitUntilAsync(async () =>
        {
            var (response, body) = await lab.Client(ip).GetWithBodyAsync($"{Sa}/token");
            token = response.StatusCode == HttpStatusCode.OK ? AccessToken(body) : null;
            return token is not null;
        });
        return token!;
    }

    private static string AccessToken(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.GetProperty("access_token").GetString()!;
    }
}
