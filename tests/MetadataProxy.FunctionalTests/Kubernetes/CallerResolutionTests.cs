using MetadataProxy.FunctionalTests.Infrastructure;

namespace MetadataProxy.FunctionalTests.Kubernetes;

/// <summary>Issue 3: which pod is calling, through the real informer and KubernetesClient.</summary>
public sealed class CallerResolutionTests(KubernetesLab lab) : IClassFixture<KubernetesLab>
{
    private const string Email = "/computeMetadata/v1/instance/service-accounts/default/email";

    [Fact]
    public async Task KnownPod_GetsItsKsasGoogleServiceAccount()
    {
        lab.AddPod("team-a", "known", "127.0.0.10", "app", gsa: "app@test-project.iam.gserviceaccount.com");
        await lab.WaitForEmailAsync("127.0.0.10", "app@test-project.iam.gserviceaccount.com");

        var (response, listing) = await lab.Client("127.0.0.10").GetWithBodyAsync("/computeMetadata/v1/instance/service-accounts/");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("app@test-project.iam.gserviceaccount.com/\ndefault/\n", listing);
    }

    [Fact]
    public async Task PodWithoutAnnotation_IsThePoolIdentity()
    {
        lab.AddPod("team-a", "plain", "127.0.0.11", "plain");
        await lab.WaitForEmailAsync("127.0.0.11", "test-project.svc.id.goog");
    }

    [Fact]
    public async Task UnknownAddress_Is503AfterTheWaitWithRetryAfter()
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var (response, body) = await lab.Client("127.0.0.12").GetWithBodyAsync(Email);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Contains("No live pod on node node-a has IP 127.0.0.12", body, StringComparison.Ordinal);
        Assert.NotNull(response.Headers.RetryAfter);
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(1.4), $"answered after {clock.Elapsed}, before Identity:LookupWait");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), $"answered after {clock.Elapsed}, past the clients' 3 s budget");
    }

    [Fact]
    public async Task PodCreated300MsAfterItsFirstRequest_ThatRequestSucceeds()
    {
        const string AfterWait = "metadata_proxy_caller_resolutions_total{outcome=\"after_wait\"}";
        const string LiveList = "metadata_proxy_caller_resolutions_total{outcome=\"live_list\"}";
        var waitedBefore = await lab.MetricAsync(AfterWait) + await lab.MetricAsync(LiveList);
        lab.EnsureServiceAccount("team-a", "late", "late@test-project.iam.gserviceaccount.com");
        var request = lab.Client("127.0.0.13").GetWithBodyAsync(Email);
        await Task.Delay(300, TestContext.Current.CancellationToken); // the modelled gap between the request and the pod (the subject)
        lab.AddPod("team-a", "late", "127.0.0.13", "late");

        var (response, body) = await request;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("late@test-project.iam.gserviceaccount.com", body);
        // The premise held: the request was answered after waiting for its pod, not by an index that already knew it.
        Assert.Equal(waitedBefore + 1, await lab.MetricAsync(AfterWait) + await lab.MetricAsync(LiveList));
    }

    [Fact]
    public async Task CompletedPodAndNewRunningPodWithTheSameIp_IsTheNewPod()
    {
        lab.AddPod("jobs", "job-1", "127.0.0.14", "job-old", gsa: "old@test-project.iam.gserviceaccount.com", edit: p => p.Status.Phase = "Succeeded");
        lab.AddPod("jobs", "web-1", "127.0.0.14", "web-new", gsa: "new@test-project.iam.gserviceaccount.com");
        await lab.WaitForEmailAsync("127.0.0.14", "new@test-project.iam.gserviceaccount.com");
    }

    [Fact]
    public async Task TwoRunningPodsWithOneIp_AreRefusedAsAmbiguous()
    {
        lab.AddPod("team-b", "twin-1", "127.0.0.15", "twin-1");
        lab.AddPod("team-b", "twin-2", "127.0.0.15", "twin-2");
        await KubernetesLab.WaitUntilAsync(async () =>
        {
            var (response, body) = await lab.Client("127.0.0.15").GetWithBodyAsync(Email);
            return response.StatusCode == HttpStatusCode.ServiceUnavailable && body.Contains("2 live pods on this node claim IP 127.0.0.15", StringComparison.Ordinal);
        });
    }

    [Fact]
    public async Task TwoRunningPodsWithOneIpInTwoNamespaces_NeitherLearnsTheOthersName()
    {
        lab.AddPod("tenant-a", "front-1", "127.0.0.25", "front");
        var secret = lab.AddPod("tenant-secret", "payroll-7", "127.0.0.25", "payroll");
        var (response, body) = (default(HttpResponseMessage)!, "");
        await KubernetesLab.WaitUntilAsync(async () =>
        {
            (response, body) = await lab.Client("127.0.0.25").GetWithBodyAsync(Email);
            return response.StatusCode == HttpStatusCode.ServiceUnavailable && body.Contains("claim IP", StringComparison.Ordinal);
        });

        Assert.Contains("2 live pods on this node claim IP 127.0.0.25; refusing to guess which one is calling.", body, StringComparison.Ordinal);
        // Each pod's Event tells its owner the same count and nothing about the other tenant's pod.
        await KubernetesLab.WaitUntilAsync(() => Task.FromResult(lab.Kube.EventsCreated.Count(e => e.Reason == "MetadataAmbiguousPodIP" && e.Message.Contains("127.0.0.25", StringComparison.Ordinal)) == 2));
        var events = lab.Kube.EventsCreated.Where(e => e.Reason == "MetadataAmbiguousPodIP" && e.Message.Contains("127.0.0.25", StringComparison.Ordinal)).ToList();
        Assert.Equal(["front-1", "payroll-7"], events.Select(e => e.InvolvedObject.Name).Order());
        foreach (var text in events.Select(e => e.Message).Append(body))
        {
            foreach (var secretPart in new[] { "tenant-secret", "payroll", secret.Metadata.Uid, "tenant-a", "front-1" })
                Assert.DoesNotContain(secretPart, text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task DeletedPod_IsRefusedOnceTheDeleteArrives()
    {
        lab.AddPod("team-b", "gone", "127.0.0.16", "gone");
        await lab.WaitForEmailAsync("127.0.0.16", "test-project.svc.id.goog");
        var watchEvents = await lab.MetricAsync("metadata_proxy_pod_watch_events_total{type=\"deleted\"}");

        lab.Kube.DeletePod("team-b", "gone");
        await KubernetesLab.WaitUntilAsync(async () => await lab.MetricAsync("metadata_proxy_pod_watch_events_total{type=\"deleted\"}") > watchEvents);
        var (response, _) = await lab.Client("127.0.0.16").GetWithBodyAsync(Email);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
    }

    [Fact]
    public async Task HostNetworkPodAndNodeAddress_Are403()
    {
        lab.AddPod("kube-system", "agent", "127.0.0.18", "agent", edit: p => p.Spec.HostNetwork = true);
        await KubernetesLab.WaitUntilAsync(async () => (await lab.Client("127.0.0.18").GetAsync(Email, flavor: true)).StatusCode == HttpStatusCode.Forbidden);

        var (response, body) = await lab.Client(KubernetesLab.NodeAddress.ToString()).GetWithBodyAsync(Email);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("Identity:HostNetworkPolicy is Deny", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HostNetworkCaller_StillGetsTheCallerIndependentValues()
    {
        var (response, body) = await lab.Client(KubernetesLab.NodeAddress.ToString()).GetWithBodyAsync("/computeMetadata/v1/project/project-id");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Fixture.ProjectId, body);
    }

    [Fact]
    public async Task MalformedAnnotation_Is403NamingTheKsaAndTheProblem()
    {
        lab.AddPod("team-c", "bad", "127.0.0.19", "bad", gsa: "not-an-email");
        await KubernetesLab.WaitUntilAsync(async () =>
        {
            var (response, body) = await lab.Client("127.0.0.19").GetWithBodyAsync(Email);
            return response.StatusCode == HttpStatusCode.Forbidden
                && body.Contains("Kubernetes service account team-c/bad: annotation iam.gke.io/gcp-service-account &#39;not-an-email&#39;", StringComparison.Ordinal);
        });

        // The pod's owner sees why in `kubectl describe pod`, once, however often the pod asks.
        await KubernetesLab.WaitUntilAsync(() => Task.FromResult(lab.Kube.EventsCreated.Any(e => e.InvolvedObject.Name == "bad")));
        for (var i = 0; i < 3; i++)
            await lab.Client("127.0.0.19").GetWithBodyAsync(Email);
        var warning = Assert.Single(lab.Kube.EventsCreated, e => e.InvolvedObject.Name == "bad");
        Assert.Equal("Warning", warning.Type);
        Assert.Equal("MetadataInvalidAnnotation", warning.Reason);
        Assert.Equal(lab.Kube.GetPod("team-c", "bad")!.Metadata.Uid, warning.InvolvedObject.Uid);
        Assert.Contains("not-an-email", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MissingServiceAccount_Is403()
    {
        lab.Kube.AddPod(new k8s.Models.V1Pod
        {
            Metadata = new k8s.Models.V1ObjectMeta { Name = "orphan", NamespaceProperty = "team-c" },
            Spec = new k8s.Models.V1PodSpec { NodeName = KubernetesLab.NodeName, ServiceAccountName = "nobody", Containers = [new k8s.Models.V1Container { Name = "a", Image = "a" }] },
            Status = new k8s.Models.V1PodStatus { Phase = "Running", PodIP = "127.0.0.20", PodIPs = [new k8s.Models.V1PodIP { Ip = "127.0.0.20" }] },
        });
        await KubernetesLab.WaitUntilAsync(async () =>
        {
            var (response, body) = await lab.Client("127.0.0.20").GetWithBodyAsync(Email);
            return response.StatusCode == HttpStatusCode.Forbidden && body.Contains("team-c/nobody, which does not exist", StringComparison.Ordinal);
        });
    }

    [Fact]
    public async Task AnnotationChange_IsEffectiveWithinTheTtl()
    {
        lab.AddPod("team-d", "moving", "127.0.0.21", "moving", gsa: "before@test-project.iam.gserviceaccount.com");
        await lab.WaitForEmailAsync("127.0.0.21", "before@test-project.iam.gserviceaccount.com");

        var changed = DateTime.UtcNow;
        lab.Kube.UpdateServiceAccount("team-d", "moving", sa => sa.Metadata.Annotations["iam.gke.io/gcp-service-account"] = "after@test-project.iam.gserviceaccount.com");
        await lab.WaitForEmailAsync("127.0.0.21", "after@test-project.iam.gserviceaccount.com");
        Assert.True(DateTime.UtcNow - changed < TimeSpan.FromSeconds(2) + TimeSpan.FromSeconds(1), "the change took longer than the TTL (2 s) plus a read");
    }

    [Fact]
    public async Task W_2_WaitForChangeOnACallersEmail_WakesWhenTheAnnotationChanges()
    {
        lab.AddPod("team-d", "waiting", "127.0.0.24", "waiting", gsa: "first@test-project.iam.gserviceaccount.com");
        await lab.WaitForEmailAsync("127.0.0.24", "first@test-project.iam.gserviceaccount.com");

        var waiting = lab.Client("127.0.0.24").GetWithBodyAsync(Email + "?wait_for_change=true&timeout_sec=60");
        lab.Kube.UpdateServiceAccount("team-d", "waiting", sa => sa.Metadata.Annotations["iam.gke.io/gcp-service-account"] = "second@test-project.iam.gserviceaccount.com");
        var (response, body) = await waiting.WaitAsync(TimeSpan.FromSeconds(15), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("second@test-project.iam.gserviceaccount.com", body);
    }

    [Fact]
    public async Task SecondPodIp_IsResolvedLikeTheFirst()
    {
        lab.AddPod("team-d", "dual", "127.0.0.22", "dual", gsa: "dual@test-project.iam.gserviceaccount.com",
            edit: p => p.Status.PodIPs = [new k8s.Models.V1PodIP { Ip = "127.0.0.22" }, new k8s.Models.V1PodIP { Ip = "127.0.0.23" }]);
        await lab.WaitForEmailAsync("127.0.0.23", "dual@test-project.iam.gserviceaccount.com");
    }
}
