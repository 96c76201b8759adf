using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using MetadataProxy.FunctionalTests.Infrastructure;
using MetadataProxy.TestServers.Google;
using MetadataProxy.TestServers.Jwt;

namespace MetadataProxy.FunctionalTests.Kubernetes;

/// <summary>Issue 4: pod-bound KSA token → STS → IAM Credentials, through the real libraries and both test servers.</summary>
public sealed class KubernetesTokenTests(KubernetesLab lab) : IClassFixture<KubernetesLab>
{
    private const string Sa = "/computeMetadata/v1/instance/service-accounts/default";

    [Fact]
    public async Task PodWithGsa_GetsTheGsasTokenThroughStsAndIam()
    {
        const string Gsa = "writer@test-project.iam.gserviceaccount.com";
        lab.Google.AllowImpersonation(KubernetesLab.PrincipalOf("tk", "writer"), Gsa);
        lab.AddPod("tk", "writer-1", "127.0.0.80", "writer", gsa: Gsa);

        var token = await TokenAsync("127.0.0.80");
        var info = lab.Google.DescribeAccessToken(token.Value)!;
        Assert.Equal(TokenKind.ServiceAccount, info.Kind);
        Assert.Equal(Gsa, info.ServiceAccountEmail);
        Assert.Equal([Fixture.CloudPlatformScope, Fixture.UserInfoEmailScope], info.Scopes.Order(StringComparer.Ordinal));
        Assert.InRange(token.ExpiresIn, 300, 3600);

        // The subject token was a TokenRequest bound to the calling pod, for the provider's audience.
        var request = lab.Kube.TokenRequestsMade.Last(r => r.ServiceAccount == "writer");
        Assert.Equal(201, request.StatusCode);
        Assert.Equal("Pod", request.BoundObjectRef!.Kind);
        Assert.Equal("writer-1", request.BoundObjectRef.Name);
        Assert.Equal(lab.Kube.GetPod("tk", "writer-1")!.Metadata.Uid, request.BoundObjectRef.Uid);
        Assert.Equal([$"https://iam.googleapis.com/projects/{KubernetesLab.ProjectNumber}/locations/global/workloadIdentityPools/{KubernetesLab.PoolId}/providers/{KubernetesLab.ProviderId}"], request.Audiences);
        Assert.Equal(3600, request.ExpirationSeconds);
    }

    [Fact]
    public async Task PodWithoutGsa_GetsTheFederatedTokenAndNoIdentity()
    {
        lab.AddPod("tk", "reader-1", "127.0.0.81", "reader");

        var token = await TokenAsync("127.0.0.81");
        var info = lab.Google.DescribeAccessToken(token.Value)!;
        Assert.Equal(TokenKind.Federated, info.Kind);
        Assert.Equal(KubernetesLab.PrincipalOf("tk", "reader"), info.Principal);

        var (response, body) = await lab.Client("127.0.0.81").GetWithBodyAsync($"{Sa}/identity?audience=https://svc.example");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("Your Kubernetes service account (tk/reader) is not annotated with a target Google service account", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task IdentityOfPodWithGsa_IsAGoogleSignedTokenForTheAudience()
    {
        const string Gsa = "idt@test-project.iam.gserviceaccount.com";
        lab.Google.AllowImpersonation(KubernetesLab.PrincipalOf("tk", "idt"), Gsa);
        lab.AddPod("tk", "idt-1", "127.0.0.82", "idt", gsa: Gsa);
        await WaitForPodAsync("127.0.0.82");

        var (response, jwt) = await lab.Client("127.0.0.82").GetWithBodyAsync($"{Sa}/identity?audience=https%3A%2F%2Fsvc.example&format=full");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(JwtVerifier.TryVerify(jwt, JsonNode.Parse(lab.Google.GoogleJwksJson)!.AsObject(), out var claims, out var error), error);
        Assert.Equal("https://svc.example", (string?)claims!["aud"]);
        Assert.Equal(Gsa, (string?)claims["email"]);
    }

    [Fact]
    public async Task MissingIamBinding_Is403WithGooglesReason()
    {
        lab.AddPod("tk", "unbound-1", "127.0.0.83", "unbound", gsa: "secret@test-project.iam.gserviceaccount.com");
        await WaitForPodAsync("127.0.0.83");
        var (response, body) = await lab.Client("127.0.0.83").GetWithBodyAsync($"{Sa}/token");
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("iam.serviceAccounts.getAccessToken", body, StringComparison.Ordinal);
        await KubernetesLab.WaitUntilAsync(() => Task.FromResult(
            lab.Kube.EventsCreated.Any(e => e.InvolvedObject.Name == "unbound-1" && e.Reason == "MetadataTokenRefused" && e.Message.Contains("getAccessToken", StringComparison.Ordinal))));
    }

    [Fact]
    public async Task StsDown_Answers503WithinTheDeadline_ThenRecovers()
    {
        lab.AddPod("tk", "flaky-1", "127.0.0.84", "flaky");
        await WaitForPodAsync("127.0.0.84");
        lab.Google.Sts.Latency = TimeSpan.FromSeconds(20);
        try
        {
            var clock = Stopwatch.StartNew();
            var (response, body) = await lab.Client("127.0.0.84").GetWithBodyAsync($"{Sa}/token?scopes=https://www.googleapis.com/auth/flaky");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.True(clock.Elapsed <= TimeSpan.FromSeconds(2.5) + TimeSpan.FromSeconds(0.5), $"answered after {clock.Elapsed}");
            Assert.Contains("did not answer within 2.5 s", body, StringComparison.Ordinal);
        }
        finally
        {
            lab.Google.Sts.Clear();
        }

        await KubernetesLab.WaitUntilAsync(async () =>
            (await lab.Client("127.0.0.84").GetAsync($"{Sa}/token?scopes=https://www.googleapis.com/auth/flaky", flavor: true)).StatusCode == HttpStatusCode.OK, seconds: 30);
    }

    [Fact]
    public async Task ExpiredKsaToken_IsRefusedBySts()
    {
        lab.AddPod("tk", "stale-1", "127.0.0.85", "stale");
        await WaitForPodAsync("127.0.0.85");
        var now = DateTimeOffset.UtcNow;
        lab.Kube.Time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(now - TimeSpan.FromHours(3)); // tokens minted as if 3 h ago: expired
        try
        {
            var (response, body) = await lab.Client("127.0.0.85").GetWithBodyAsync($"{Sa}/token?scopes=https://www.googleapis.com/auth/stale");
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
            Assert.Contains("invalid_grant", body, StringComparison.Ordinal);
        }
        finally
        {
            lab.Kube.Time = TimeProvider.System;
        }
    }

    [Fact]
    public async Task TwoPodsWithDifferentKsas_GetDifferentTokens()
    {
        lab.Google.AllowImpersonation(KubernetesLab.PrincipalOf("tk", "one"), "one@test-project.iam.gserviceaccount.com");
        lab.Google.AllowImpersonation(KubernetesLab.PrincipalOf("tk", "two"), "two@test-project.iam.gserviceaccount.com");
        lab.AddPod("tk", "one-1", "127.0.0.86", "one", gsa: "one@test-project.iam.gserviceaccount.com");
        lab.AddPod("tk", "two-1", "127.0.0.87", "two", gsa: "two@test-project.iam.gserviceaccount.com");

        var one = await TokenAsync("127.0.0.86");
        var two = await TokenAsync("127.0.0.87");
        Assert.NotEqual(one.Value, two.Value);
        Assert.Equal("one@test-project.iam.gserviceaccount.com", lab.Google.DescribeAccessToken(one.Value)!.ServiceAccountEmail);
        Assert.Equal("two@test-project.iam.gserviceaccount.com", lab.Google.DescribeAccessToken(two.Value)!.ServiceAccountEmail);
    }

    [Fact]
    public async Task AfterPrefetch_ANewPodsFirstTokenRequestIsACacheHit()
    {
        const string Gsa = "early@test-project.iam.gserviceaccount.com";
        lab.Google.AllowImpersonation(KubernetesLab.PrincipalOf("tk", "early"), Gsa);
        var before = lab.Google.IamRequests.Count(r => r.ServiceAccountEmail == Gsa);
        lab.AddPod("tk", "early-1", "127.0.0.88", "early", gsa: Gsa);
        await KubernetesLab.WaitUntilAsync(() => Task.FromResult(lab.Google.IamRequests.Count(r => r.ServiceAccountEmail == Gsa) == before + 1));

        await TokenAsync("127.0.0.88");
        Assert.Equal(before + 1, lab.Google.IamRequests.Count(r => r.ServiceAccountEmail == Gsa));
    }

    [Fact]
    public async Task QuotaProjectAnnotation_IsSentOnIamCalls()
    {
        const string Gsa = "billed@test-project.iam.gserviceaccount.com";
        lab.Google.AllowImpersonation(KubernetesLab.PrincipalOf("tk", "billed"), Gsa);
        lab.EnsureServiceAccount("tk", "billed", Gsa, new Dictionary<string, string> { ["iam.gke.io/credential-quota-project"] = "billing-project" });
        lab.AddPod("tk", "billed-1", "127.0.0.89", "billed");

        var token = await TokenAsync("127.0.0.89");
        Assert.Equal("billing-project", lab.Google.DescribeAccessToken(token.Value)!.QuotaProject);
    }

    [Fact]
    public async Task ReturnPrincipalIdAsEmail_AnswersThePrincipal()
    {
        lab.EnsureServiceAccount("tk", "principal", annotations: new Dictionary<string, string> { ["iam.gke.io/return-principal-id-as-email"] = "true" });
        lab.AddPod("tk", "principal-1", "127.0.0.90", "principal");
        await KubernetesLab.WaitUntilAsync(async () =>
        {
            var (response, body) = await lab.Client("127.0.0.90").GetWithBodyAsync($"{Sa}/email");
            return response.StatusCode == HttpStatusCode.OK && body == KubernetesLab.PrincipalOf("tk", "principal");
        });
    }

    [Fact]
    public async Task HundredConcurrentFirstRequestsForOneKsa_CauseOneStsAndOneIamCall()
    {
        const string Gsa = "crowd@test-project.iam.gserviceaccount.com";
        lab.Google.AllowImpersonation(KubernetesLab.PrincipalOf("tk", "crowd"), Gsa);
        lab.AddPod("tk", "crowd-1", "127.0.0.91", "crowd", gsa: Gsa);

        // Every request starts at once, racing the prefetch the new pod triggers: all join one exchange.
        var answers = await Task.WhenAll(Enumerable.Range(0, 100).Select(async _ =>
        {
            using var client = lab.Client("127.0.0.91");
            return await client.GetWithBodyAsync($"{Sa}/token");
        }));

        Assert.All(answers, a => Assert.Equal(HttpStatusCode.OK, a.Response.StatusCode));
        Assert.Single(answers.Select(a => a.Body).Distinct());
        Assert.Equal(1, lab.Google.StsRequests.Count(r => r.Subject == "system:serviceaccount:tk:crowd"));
        Assert.Equal(1, lab.Google.IamRequests.Count(r => r.ServiceAccountEmail == Gsa));
    }

    [Fact]
    public async Task ScopeSetsAndAudiencesOfOneKsa_ShareOneFederatedToken_EachCostsOneIamCall()
    {
        const string Gsa = "many@test-project.iam.gserviceaccount.com";
        lab.Google.AllowImpersonation(KubernetesLab.PrincipalOf("tk", "many"), Gsa);
        lab.AddPod("tk", "many-1", "127.0.0.92", "many", gsa: Gsa);
        using var client = lab.Client("127.0.0.92");
        string[] paths =
        [
            $"{Sa}/token",
            $"{Sa}/token?scopes=https://www.googleapis.com/auth/devstorage.read_only",
            $"{Sa}/token?scopes=https://www.googleapis.com/auth/bigquery,https://www.googleapis.com/auth/pubsub",
            $"{Sa}/identity?audience=https://one.example",
            $"{Sa}/identity?audience=https://two.example&format=full",
        ];

        foreach (var path in paths)
        {
            var (response, body) = await client.GetWithBodyAsync(path);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {(int)response.StatusCode} {body}");
        }

        // One STS exchange (and one KSA token) for the account, whatever it asks for; IAM once per scope set or audience.
        var exchanges = lab.Google.StsRequests.Where(r => r.Subject == "system:serviceaccount:tk:many").ToList();
        Assert.Single(exchanges);
        Assert.Equal(["https://www.googleapis.com/auth/iam"], exchanges[0].Scopes);
        Assert.Single(lab.Kube.TokenRequestsMade, r => r.Namespace == "tk" && r.ServiceAccount == "many");
        var iam = lab.Google.IamRequests.Where(r => r.ServiceAccountEmail == Gsa).ToList();
        Assert.Equal(3, iam.Count(r => r.Method == IamMethod.GenerateAccessToken));
        Assert.Equal(2, iam.Count(r => r.Method == IamMethod.GenerateIdToken));
        Assert.All(iam, r => Assert.Equal(200, r.Status));
    }

    private async Task WaitForPodAsync(string ip) =>
        await KubernetesLab.WaitUntilAsync(async () => (await lab.Client(ip).GetAsync($"{Sa}/email", flavor: true)).StatusCode == HttpStatusCode.OK);

    private async Task<(string Value, long ExpiresIn)> TokenAsync(string ip)
    {
        string? json = null;
        await KubernetesLab.WaitUntilAsync(async () =>
        {
            var (response, body) = await lab.Client(ip).GetWithBodyAsync($"{Sa}/token");
            json = body;
            return response.StatusCode == HttpStatusCode.OK;
        });
        using var document = JsonDocument.Parse(json!);
        return (document.RootElement.GetProperty("access_token").GetString()!, document.RootElement.GetProperty("expires_in").GetInt64());
    }
}
