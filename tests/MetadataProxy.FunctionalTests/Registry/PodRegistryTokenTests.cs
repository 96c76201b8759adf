using MetadataProxy.FunctionalTests.Kubernetes;
using MetadataProxy.TestServers.Google;

namespace MetadataProxy.FunctionalTests.Registry;

/// <summary>Issue 8, KEP-4412: the pulling pod's own registry credential, from the kubelet's token for it.</summary>
public sealed class PodRegistryTokenTests(RegistryLab registry) : IClassFixture<RegistryLab>
{
    private const string GsaKey = "iam.gke.io/gcp-service-account";
    private KubernetesLab Lab => registry.Lab;

    [Fact]
    public async Task PodToken_WithGsaAnnotation_IsTheGsasToken()
    {
        const string Gsa = "puller@test-project.iam.gserviceaccount.com";
        Lab.Google.AllowImpersonation(KubernetesLab.PrincipalOf("pr", "puller"), Gsa);
        var pod = Lab.AddPod("pr", "puller-1", "127.0.0.150", "puller", gsa: Gsa);
        var reviews = Lab.Kube.TokenReviews;

        var (response, body) = await registry.PostPodTokenAsync(new
        {
            serviceAccountToken = await registry.KubeletTokenAsync(pod),
            serviceAccountAnnotations = new Dictionary<string, string> { [GsaKey] = Gsa },
            image = "us-docker.pkg.dev/p/r/app:1",
        });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var (token, expiresIn) = RegistryLab.ParseToken(body);
        var info = Lab.Google.DescribeAccessToken(token)!;
        Assert.Equal(TokenKind.ServiceAccount, info.Kind);
        Assert.Equal(Gsa, info.ServiceAccountEmail);
        Assert.InRange(expiresIn, 300, 3600);
        Assert.Equal(reviews + 1, Lab.Kube.TokenReviews);
        Assert.True(await Lab.MetricAsync("metadata_proxy_registry_credentials_total{path=\"pod\",outcome=\"ok\"}") >= 1);
    }

    [Fact]
    public async Task PodToken_WithoutAnnotation_IsThePrincipalsFederatedToken()
    {
        var pod = Lab.AddPod("pr", "plain-1", "127.0.0.151", "plain");

        var (response, body) = await registry.PostPodTokenAsync(new { serviceAccountToken = await registry.KubeletTokenAsync(pod) });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var info = Lab.Google.DescribeAccessToken(RegistryLab.ParseToken(body).AccessToken)!;
        Assert.Equal(TokenKind.Federated, info.Kind);
        Assert.Equal(KubernetesLab.PrincipalOf("pr", "plain"), info.Principal);
    }

    [Fact]
    public async Task PodToken_ForAPodThatNoLongerExists_IsRefused()
    {
        var pod = Lab.AddPod("pr", "gone-1", "127.0.0.152", "gone");
        var token = await registry.KubeletTokenAsync(pod);
        Lab.Kube.DeletePod("pr", "gone-1");

        var (response, body) = await registry.PostPodTokenAsync(new { serviceAccountToken = token });

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("Kubernetes did not accept the pod's service-account token", body, StringComparison.Ordinal);
        Assert.Contains("service account token has been invalidated", body, StringComparison.Ordinal);
        Assert.True(await Lab.MetricAsync("metadata_proxy_registry_credentials_total{path=\"pod\",outcome=\"subject_token_rejected\"}") >= 1);
    }

    [Fact]
    public async Task PodToken_ForAnotherAudience_IsRefusedBeforeGoogleSeesIt()
    {
        var pod = Lab.AddPod("pr", "aud-1", "127.0.0.153", "aud");
        var token = await registry.KubeletTokenAsync(pod, audience: "https://kubernetes.default.svc");

        var (response, body) = await registry.PostPodTokenAsync(new { serviceAccountToken = token });

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("is invalid for the target audiences", body, StringComparison.Ordinal);
        Assert.DoesNotContain(Lab.Google.StsRequests, r => r.SubjectToken == token);
    }

    [Fact]
    public async Task PodToken_ForAnAccountWithoutTheIamBinding_IsRefusedWithGooglesReason_AndAnEvent()
    {
        const string Gsa = "unbound@test-project.iam.gserviceaccount.com";
        var pod = Lab.AddPod("pr", "unbound-1", "127.0.0.154", "unbound", gsa: Gsa);

        var (response, body) = await registry.PostPodTokenAsync(new
        {
            serviceAccountToken = await registry.KubeletTokenAsync(pod),
            serviceAccountAnnotations = new Dictionary<string, string> { [GsaKey] = Gsa },
        });

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("Permission 'iam.serviceAccounts.getAccessToken' denied", body, StringComparison.Ordinal);
        await KubernetesLab.WaitUntilAsync(() => Task.FromResult(Lab.Kube.EventsCreated.Any(e => e.InvolvedObject.Name == "unbound-1")));
        var warning = Assert.Single(Lab.Kube.EventsCreated, e => e.InvolvedObject.Name == "unbound-1");
        Assert.Equal(("Warning", "MetadataRegistryCredentialsRefused"), (warning.Type, warning.Reason));
    }

    [Fact]
    public async Task PodToken_WithAMalformedAnnotation_IsRefusedAndNamesIt()
    {
        var pod = Lab.AddPod("pr", "badann-1", "127.0.0.155", "badann");

        var (response, body) = await registry.PostPodTokenAsync(new
        {
            serviceAccountToken = await registry.KubeletTokenAsync(pod),
            serviceAccountAnnotations = new Dictionary<string, string> { [GsaKey] = "not-an-email" },
        });

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("pr/badann", body, StringComparison.Ordinal);
        Assert.Contains("'not-an-email' is not a Google service account e-mail", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PodToken_ForAPodOfAnotherNode_IsRefused()
    {
        var pod = Lab.AddPod("pr", "elsewhere-1", "127.0.0.156", "elsewhere", edit: p => p.Spec.NodeName = "node-b");

        var (response, body) = await registry.PostPodTokenAsync(new { serviceAccountToken = await registry.KubeletTokenAsync(pod) });

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("was minted for node node-b, not this node (node-a)", body, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not json", "the body is not JSON")]
    [InlineData("[]", "the body must be a JSON object")]
    [InlineData("{}", "serviceAccountToken (a non-empty string) is required")]
    [InlineData("{\"serviceAccountToken\":42}", "serviceAccountToken (a non-empty string) is required")]
    [InlineData("{\"serviceAccountToken\":\"abc\"}", "serviceAccountToken is not a JSON Web Token")]
    [InlineData("{\"serviceAccountToken\":\"a.b.c\",\"serviceAccountAnnotations\":[1]}", "serviceAccountAnnotations must be an object of strings")]
    [InlineData("{\"serviceAccountToken\":\"a.b.c\",\"serviceAccountAnnotations\":{\"k\":1}}", "serviceAccountAnnotations[k] must be a string")]
    public async Task PodToken_MalformedBody_Is400WithTheReason(string json, string reason)
    {
        using var client = Lab.NodeSocketClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/registry/v1/pod-token") { Content = new StringContent(json) };
        request.Headers.Add("Metadata-Flavor", "Google");
        using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(reason, body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PodToken_LargerThanTheLimit_Is400()
    {
        var (response, body) = await registry.PostPodTokenAsync(new { serviceAccountToken = new string('a', 70_000) });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("larger than 65536 bytes", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PodToken_WhenTokenReviewsAreForbidden_Is503NamingTheRbacRule()
    {
        var pod = Lab.AddPod("pr", "rbac-1", "127.0.0.157", "rbac");
        var token = await registry.KubeletTokenAsync(pod);
        Lab.Kube.DenyTokenReviews = true;
        try
        {
            var (response, body) = await registry.PostPodTokenAsync(new { serviceAccountToken = token });

            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Contains("tokenreviews create", body, StringComparison.Ordinal);
            Assert.NotNull(response.Headers.RetryAfter);
        }
        finally
        {
            Lab.Kube.DenyTokenReviews = false;
        }
    }
}
