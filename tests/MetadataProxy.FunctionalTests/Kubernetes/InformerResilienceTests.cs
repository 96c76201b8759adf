using MetadataProxy.FunctionalTests.Infrastructure;

namespace MetadataProxy.FunctionalTests.Kubernetes;

/// <summary>Issue 3: dropped watches, expired resourceVersions and an API-server outage never produce a wrong answer.</summary>
public sealed class InformerResilienceTests(KubernetesLab lab) : IClassFixture<KubernetesLab>
{
    private const string Email = "/computeMetadata/v1/instance/service-accounts/default/email";

    [Fact]
    public async Task WatchDroppedAndExpired_IndexIsRebuiltWithoutAWrongAnswer()
    {
        lab.AddPod("churn", "first", "127.0.0.40", "first", gsa: "first@test-project.iam.gserviceaccount.com");
        await lab.WaitForEmailAsync("127.0.0.40", "first@test-project.iam.gserviceaccount.com");
        var relists = await lab.MetricAsync("metadata_proxy_pod_relists_total");

        // The watch breaks and its history is compacted; once the server has seen the break, the pod goes and,
        // after the reuse gap of the churn test's model, another pod takes its address.
        var failures = await lab.MetricAsync("metadata_proxy_pod_watch_failures_total");
        lab.Kube.ExpireResourceVersions(); // first: a resume after the drop can only meet the compaction, never slip in before it
        lab.Kube.DropWatches();
        // The break shows as a failed watch (the abort surfaced as an error) or, when the stream just ended and the
        // resume met the compaction first, as a 410 and a relist: either way the server has seen it.
        await KubernetesLab.WaitUntilAsync(async () => await lab.MetricAsync("metadata_proxy_pod_watch_failures_total") > failures
                                                        || await lab.MetricAsync("metadata_proxy_pod_relists_total") > relists);
        lab.Kube.DeletePod("churn", "first");
        await Task.Delay(50, TestContext.Current.CancellationToken); // the modelled reuse gap (the subject), not synchronisation
        lab.AddPod("churn", "second", "127.0.0.40", "second", gsa: "second@test-project.iam.gserviceaccount.com");

        var answers = new List<string>();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < deadline && !(answers.Count > 0 && answers[^1] == "second@test-project.iam.gserviceaccount.com" && await lab.MetricAsync("metadata_proxy_pod_relists_total") > relists))
        {
            var (response, body) = await lab.Client("127.0.0.40").GetWithBodyAsync(Email);
            if (response.StatusCode == HttpStatusCode.OK)
                answers.Add(body);
        }

        Assert.DoesNotContain("first@test-project.iam.gserviceaccount.com", answers);
        Assert.Equal("second@test-project.iam.gserviceaccount.com", answers[^1]);
        Assert.True(await lab.MetricAsync("metadata_proxy_pod_relists_total") > relists, "the 410 did not cause a relist");
    }

    [Fact]
    public async Task ApiServerDownForTenSeconds_KnownPodsKeepResolving()
    {
        lab.AddPod("outage", "steady", "127.0.0.41", "steady", gsa: "steady@test-project.iam.gserviceaccount.com");
        await lab.WaitForEmailAsync("127.0.0.41", "steady@test-project.iam.gserviceaccount.com");

        lab.Kube.GoDown(TimeSpan.FromSeconds(10));
        var down = DateTime.UtcNow;
        var answered = 0;
        while (DateTime.UtcNow - down < TimeSpan.FromSeconds(9))
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var (response, body) = await lab.Client("127.0.0.41").GetWithBodyAsync(Email);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("steady@test-project.iam.gserviceaccount.com", body);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"a known pod waited {clock.Elapsed} on the API server");
            answered++;
            await Task.Delay(250, TestContext.Current.CancellationToken); // the pod's request rate across the outage (the subject)
        }

        Assert.True(answered >= 20, $"only {answered} answers during the outage");

        // Back up: the informer resumes and new pods resolve again.
        lab.AddPod("outage", "after", "127.0.0.42", "after", gsa: "after@test-project.iam.gserviceaccount.com");
        await lab.WaitForEmailAsync("127.0.0.42", "after@test-project.iam.gserviceaccount.com", seconds: 40);
    }
}
