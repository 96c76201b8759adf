using System.Diagnostics;
using MetadataProxy.FunctionalTests.Infrastructure;

namespace MetadataProxy.FunctionalTests.Kubernetes;

/// <summary>
/// Issue 9, row 8: across a 60 s API-server outage known pods keep answering at once; the server does not make a
/// LIST per request while its watch resumes; the watch resumes within the capped back-off; lists come from the
/// watch cache (resourceVersion=0).
/// </summary>
public sealed class ApiOutageTests(KubernetesLab lab) : IClassFixture<KubernetesLab>
{
    private const string Email = "/computeMetadata/v1/instance/service-accounts/default/email";

    [Fact]
    public async Task SixtySecondOutage_KnownPodsKeepAnswering_AndRecoveryCostsNoListPerRequest()
    {
        lab.AddPod("outage", "steady", "127.0.0.110", "steady", gsa: "steady@test-project.iam.gserviceaccount.com");
        await lab.WaitForEmailAsync("127.0.0.110", "steady@test-project.iam.gserviceaccount.com");
        Assert.True(lab.Kube.PodListsFromCache >= 1, "the informer's first list was a quorum read, not resourceVersion=0");

        lab.Kube.GoDown(); // until the test says so, at 60 s: nothing waits on the outage's own timer
        var down = Stopwatch.StartNew();
        var answered = 0;
        var slowest = TimeSpan.Zero;
        using var client = lab.Client("127.0.0.110");
        while (down.Elapsed < TimeSpan.FromSeconds(60))
        {
            var clock = Stopwatch.StartNew();
            var (response, body) = await client.GetWithBodyAsync(Email);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{down.Elapsed} into the outage: {response.StatusCode} {body}");
            Assert.Equal("steady@test-project.iam.gserviceaccount.com", body);
            slowest = clock.Elapsed > slowest ? clock.Elapsed : slowest;
            answered++;
            await Task.Delay(100, TestContext.Current.CancellationToken); // the pod's request rate across the outage (the subject), not synchronisation
        }

        Assert.True(slowest < TimeSpan.FromSeconds(1.2), $"a known pod waited {slowest} on the API server");
        Assert.True(answered >= 300, $"only {answered} answers during the outage");

        // Back up: the watch resumes within the capped back-off, and requests meanwhile cost at most one LIST per
        // address per second, not one each.
        await lab.Kube.WaitForOpenWatchesAsync(n => n == 0, TestContext.Current.CancellationToken);
        lab.Kube.ComeUp();
        var up = Stopwatch.StartNew();
        var listsAtRecovery = lab.Kube.PodListCalls;
        var requests = 0;
        while (lab.Kube.OpenWatches == 0 && up.Elapsed < TimeSpan.FromSeconds(10))
        {
            var (response, _) = await client.GetWithBodyAsync(Email);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            requests++;
        }

        var resumedAfter = up.Elapsed;
        var lists = lab.Kube.PodListCalls - listsAtRecovery;
        TestContext.Current.TestOutputHelper?.WriteLine($"{answered} answers in the outage (slowest {slowest}); watch resumed {resumedAfter} after recovery; {requests} requests meanwhile made {lists} lists");
        Assert.True(resumedAfter < TimeSpan.FromSeconds(5), $"the watch resumed only {resumedAfter} after the API server came back");
        Assert.True(lists <= 1 + (int)resumedAfter.TotalSeconds, $"{requests} requests made {lists} lists while the watch resumed");
    }
}
