using System.Text.Json;
using MetadataProxy.FunctionalTests.Kubernetes;
using MetadataProxy.TestServers.Google;

namespace MetadataProxy.FunctionalTests.Registry;

/// <summary>Issue 8 acceptance: the real plugin binary, fed CredentialProviderRequest JSON, against the real server in Kubernetes mode.</summary>
public sealed class PluginAgainstServerTests(RegistryLab registry) : IClassFixture<RegistryLab>
{
    private const string V1 = "credentialprovider.kubelet.k8s.io/v1";
    private KubernetesLab Lab => registry.Lab;

    [Fact]
    public async Task GetCredentials_WithoutAToken_AnswersTheNodeIdentityInTheV1Shape()
    {
        var run = await Plugin.ExecAsync(Request("us-docker.pkg.dev/p/r/app:1"), "get-credentials", "--socket", Lab.NodeSocketPath);

        Assert.True(run.ExitCode == 0, run.Stderr);
        var auth = StrictResponse(run.Stdout);
        Assert.Contains("us-docker.pkg.dev", auth.Keys);
        Assert.Contains("*.pkg.dev", auth.Keys);
        Assert.Contains("gcr.io", auth.Keys);
        var (username, password) = auth["us-docker.pkg.dev"];
        Assert.Equal("oauth2accesstoken", username);
        Assert.Equal(KubernetesLab.NodeGoogleServiceAccount, Lab.Google.DescribeAccessToken(password)!.ServiceAccountEmail);
    }

    [Fact]
    public async Task GetCredentials_WithTheKubeletsToken_AnswersThePodsOwnGsa_AndNeverEchoesTheToken()
    {
        const string Gsa = "plugin-puller@test-project.iam.gserviceaccount.com";
        Lab.Google.AllowImpersonation(KubernetesLab.PrincipalOf("pl", "puller"), Gsa);
        var pod = Lab.AddPod("pl", "puller-1", "127.0.0.160", "puller", gsa: Gsa);
        var token = await registry.KubeletTokenAsync(pod);

        var run = await Plugin.ExecAsync(Request("gcr.io/p/app:1", token, Gsa), "get-credentials", "--socket", Lab.NodeSocketPath);

        Assert.True(run.ExitCode == 0, run.Stderr);
        var (_, password) = StrictResponse(run.Stdout)["gcr.io"];
        Assert.Equal(Gsa, Lab.Google.DescribeAccessToken(password)!.ServiceAccountEmail);
        Assert.DoesNotContain(token, run.Stdout + run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetCredentials_WithTheKubeletsToken_NoAnnotation_AnswersTheFederatedPrincipal()
    {
        var pod = Lab.AddPod("pl", "direct-1", "127.0.0.161", "direct");

        var run = await Plugin.ExecAsync(Request("gcr.io/p/app:1", await registry.KubeletTokenAsync(pod)), "get-credentials", "--socket", Lab.NodeSocketPath);

        Assert.True(run.ExitCode == 0, run.Stderr);
        var info = Lab.Google.DescribeAccessToken(StrictResponse(run.Stdout)["gcr.io"].Password)!;
        Assert.Equal((TokenKind.Federated, KubernetesLab.PrincipalOf("pl", "direct")), (info.Kind, info.Principal));
    }

    [Fact]
    public async Task GetCredentials_ForADeletedPod_ExitsNonZeroWithKubernetesReason()
    {
        var pod = Lab.AddPod("pl", "deleted-1", "127.0.0.162", "deleted");
        var token = await registry.KubeletTokenAsync(pod);
        Lab.Kube.DeletePod("pl", "deleted-1");

        var run = await Plugin.ExecAsync(Request("gcr.io/p/app:1", token), "get-credentials", "--socket", Lab.NodeSocketPath);

        Assert.NotEqual(0, run.ExitCode);
        Assert.Equal("", run.Stdout);
        Assert.Contains("service account token has been invalidated", OneLine(run.Stderr), StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetCredentials_WithAWrongAudience_ExitsNonZeroNamingTheAudience()
    {
        var pod = Lab.AddPod("pl", "aud-1", "127.0.0.163", "aud");

        var run = await Plugin.ExecAsync(Request("gcr.io/p/app:1", await registry.KubeletTokenAsync(pod, "https://kubernetes.default.svc")),
            "get-credentials", "--socket", Lab.NodeSocketPath);

        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains("is invalid for the target audiences", OneLine(run.Stderr), StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetCredentials_ForAnUnboundKsa_ExitsNonZeroWithGooglesReason()
    {
        const string Gsa = "plugin-unbound@test-project.iam.gserviceaccount.com";
        var pod = Lab.AddPod("pl", "unbound-1", "127.0.0.164", "unbound", gsa: Gsa);

        var run = await Plugin.ExecAsync(Request("gcr.io/p/app:1", await registry.KubeletTokenAsync(pod), Gsa), "get-credentials", "--socket", Lab.NodeSocketPath);

        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains("Permission 'iam.serviceAccounts.getAccessToken' denied", OneLine(run.Stderr), StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetCredentials_ServerDown_ExitsNonZeroWithinTenSeconds()
    {
        var missing = Path.Combine(Path.GetDirectoryName(Lab.NodeSocketPath)!, "absent.sock");

        var run = await Plugin.ExecAsync(Request("gcr.io/p/app:1"), "get-credentials", "--socket", missing);

        Assert.NotEqual(0, run.ExitCode);
        Assert.True(run.Elapsed < TimeSpan.FromSeconds(10), $"took {run.Elapsed}");
        Assert.Contains(missing, OneLine(run.Stderr), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("{not json")]
    [InlineData("{\"apiVersion\":\"credentialprovider.kubelet.k8s.io/v9\",\"kind\":\"CredentialProviderRequest\",\"image\":\"gcr.io/a\"}")]
    public async Task GetCredentials_MalformedInput_IsOneClearLineAndExit2(string stdin)
    {
        var run = await Plugin.ExecAsync(stdin, "get-credentials", "--socket", Lab.NodeSocketPath);

        Assert.Equal(2, run.ExitCode);
        Assert.Equal("", run.Stdout);
        Assert.DoesNotContain("   at ", run.Stderr, StringComparison.Ordinal);
        Assert.StartsWith("metadata-proxy-credential-provider: ", OneLine(run.Stderr), StringComparison.Ordinal);
    }

    [Fact]
    public async Task DockerHelperGet_OnTheNode_AnswersTheNodeIdentity()
    {
        var run = await Plugin.ExecAsync("https://us-docker.pkg.dev", ["docker-credential", "get"], socketVariable: Lab.NodeSocketPath);

        Assert.True(run.ExitCode == 0, run.Stderr);
        using var answer = JsonDocument.Parse(run.Stdout);
        Assert.Equal(["Secret", "ServerURL", "Username"], answer.RootElement.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal("oauth2accesstoken", answer.RootElement.GetProperty("Username").GetString());
        Assert.Equal(KubernetesLab.NodeGoogleServiceAccount, Lab.Google.DescribeAccessToken(answer.RootElement.GetProperty("Secret").GetString()!)!.ServiceAccountEmail);
    }

    private static string Request(string image, string? token = null, string? gsa = null)
    {
        var request = new Dictionary<string, object> { ["apiVersion"] = V1, ["kind"] = "CredentialProviderRequest", ["image"] = image };
        if (token is not null)
        {
            request["serviceAccountToken"] = token;
            request["serviceAccountAnnotations"] = gsa is null ? new Dictionary<string, string>() : new Dictionary<string, string> { ["iam.gke.io/gcp-service-account"] = gsa };
        }

        return JsonSerializer.Serialize(request);
    }

    /// <summary>The v1 CredentialProviderResponse, decoded as strictly as the kubelet does: no field it does not know.</summary>
    private static Dictionary<string, (string Username, string Password)> StrictResponse(string json)
    {
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        Assert.Equal(["apiVersion", "auth", "cacheDuration", "cacheKeyType", "kind"], root.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal(("CredentialProviderResponse", V1, "Registry"), (root.GetProperty("kind").GetString(), root.GetProperty("apiVersion").GetString(), root.GetProperty("cacheKeyType").GetString()));
        Assert.Matches("^([0-9]+h)?([0-9]+m)?[0-9]+s$", root.GetProperty("cacheDuration").GetString());
        var auth = new Dictionary<string, (string, string)>();
        foreach (var entry in root.GetProperty("auth").EnumerateObject())
        {
            Assert.Equal(["password", "username"], entry.Value.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
            auth[entry.Name] = (entry.Value.GetProperty("username").GetString()!, entry.Value.GetProperty("password").GetString()!);
        }

        return auth;
    }

    private static string OneLine(string stderr) => Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
}
