using MetadataProxy.FunctionalTests.Infrastructure;
using MetadataProxy.FunctionalTests.Kubernetes;
using MetadataProxy.TestServers.Google;

namespace MetadataProxy.FunctionalTests.Registry;

/// <summary>Issue 8, item 1: the node's own identity, on the node socket and (by policy) for callers on the node's addresses.</summary>
public sealed class NodeIdentityTests(RegistryLab registry) : IClassFixture<RegistryLab>
{
    private const string Sa = "/computeMetadata/v1/instance/service-accounts/default";
    private KubernetesLab Lab => registry.Lab;

    [Fact]
    public async Task NodeSocketToken_IsTheNodeGsasToken_BoundToTheServersOwnPod()
    {
        using var client = Lab.NodeSocketClient();
        var (response, body) = await client.GetWithBodyAsync($"{Sa}/token");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var (token, expiresIn) = RegistryLab.ParseToken(body);
        var info = Lab.Google.DescribeAccessToken(token)!;
        Assert.Equal(TokenKind.ServiceAccount, info.Kind);
        Assert.Equal(KubernetesLab.NodeGoogleServiceAccount, info.ServiceAccountEmail);
        Assert.InRange(expiresIn, 300, 3600);
        var minted = Lab.Kube.TokenRequestsMade.Last(r => r.ServiceAccount == KubernetesLab.ServerServiceAccount);
        Assert.Equal(("Pod", KubernetesLab.ServerPodName, Lab.ServerPod!.Metadata.Uid), (minted.BoundObjectRef!.Kind, minted.BoundObjectRef.Name, minted.BoundObjectRef.Uid));
    }

    [Fact]
    public async Task NodeSocketEmail_IsTheNodeGsa()
    {
        using var client = Lab.NodeSocketClient();
        var (response, body) = await client.GetWithBodyAsync($"{Sa}/email");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(KubernetesLab.NodeGoogleServiceAccount, body);
    }

    [Fact]
    public async Task NodeSocket_StillRequiresTheMetadataFlavorHeader()
    {
        using var client = Lab.NodeSocketClient();
        var (response, body) = await client.GetWithBodyAsync($"{Sa}/token", flavor: false);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("Missing Metadata-Flavor:Google header", body, StringComparison.Ordinal);
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void NodeSocketFile_IsOwnerReadWriteOnly()
    {
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Lab.NodeSocketPath));
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task NodeSocket_PeerThatIsNeitherRootNorTheServer_IsDisconnected()
    {
        if (Environment.UserName != "root" || !File.Exists("/usr/bin/setpriv") || !File.Exists("/usr/bin/curl"))
            Assert.Skip("needs root, setpriv and curl to connect as another user");

        // Loosen every mode on the way, as an admin might by mistake: the kernel's peer credentials still keep others out.
        var run = Path.GetDirectoryName(Lab.NodeSocketPath)!;
        var paths = new[] { Path.GetDirectoryName(run)!, run, Lab.NodeSocketPath };
        var before = paths.Select(File.GetUnixFileMode).ToArray();
        var refusedBefore = await Lab.MetricAsync("metadata_proxy_node_socket_refused_total");
        try
        {
            foreach (var path in paths)
                File.SetUnixFileMode(path, (UnixFileMode)0x1FF); // 0777
            using var curl = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("setpriv",
                ["--reuid=65534", "--regid=65534", "--clear-groups", "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "5",
                 "--unix-socket", Lab.NodeSocketPath, "-H", "Metadata-Flavor: Google", "http://node.socket/registry/v1/node-token"])
            { RedirectStandardOutput = true, RedirectStandardError = true })!;
            var status = await curl.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
            await curl.WaitForExitAsync(TestContext.Current.CancellationToken);

            Assert.NotEqual(0, curl.ExitCode); // connection closed without an answer
            Assert.Equal("000", status);
            Assert.Equal(refusedBefore + 1, await Lab.MetricAsync("metadata_proxy_node_socket_refused_total"));
        }
        finally
        {
            for (var i = 0; i < paths.Length; i++)
                File.SetUnixFileMode(paths[i], before[i]);
        }
    }

    [Fact]
    public async Task NodeAddressCaller_WithNodeIdentityPolicy_GetsTheNodeIdentity()
    {
        await Lab.WaitForEmailAsync(KubernetesLab.NodeAddress.ToString(), KubernetesLab.NodeGoogleServiceAccount);
        Assert.True(await Lab.MetricAsync("metadata_proxy_caller_resolutions_total{outcome=\"node_identity\"}") >= 1);
    }

    [Fact]
    public async Task PodCaller_WithNodeIdentityPolicy_KeepsItsOwnIdentity()
    {
        const string Gsa = "app@test-project.iam.gserviceaccount.com";
        Lab.AddPod("ni", "app-1", "127.0.0.140", "app", gsa: Gsa);
        await Lab.WaitForEmailAsync("127.0.0.140", Gsa);
    }

    [Fact]
    public async Task RegistryNodeToken_IsTheNodeIdentitysAccessToken()
    {
        using var client = Lab.NodeSocketClient();
        var (response, body) = await client.GetWithBodyAsync("/registry/v1/node-token");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Google", response.Single("Metadata-Flavor"));
        var info = Lab.Google.DescribeAccessToken(RegistryLab.ParseToken(body).AccessToken)!;
        Assert.Equal(KubernetesLab.NodeGoogleServiceAccount, info.ServiceAccountEmail);
        Assert.True(await Lab.MetricAsync("metadata_proxy_registry_credentials_total{path=\"node\",outcome=\"ok\"}") >= 1);
    }

    [Theory]
    [InlineData("POST", "/registry/v1/node-token", true, HttpStatusCode.MethodNotAllowed, "answers GET only")]
    [InlineData("GET", "/registry/v1/pod-token", true, HttpStatusCode.MethodNotAllowed, "answers POST only")]
    [InlineData("GET", "/registry/v1/node-token", false, HttpStatusCode.Forbidden, "Missing Metadata-Flavor:Google header")]
    [InlineData("GET", "/registry/v2/node-token", true, HttpStatusCode.NotFound, "is not served")]
    public async Task RegistryPaths_RefuseWhatTheyDoNotServe(string method, string path, bool flavor, HttpStatusCode status, string reason)
    {
        using var client = Lab.NodeSocketClient();
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (flavor)
            request.Headers.Add("Metadata-Flavor", "Google");
        using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);

        Assert.Equal(status, response.StatusCode);
        Assert.Contains(reason, body, StringComparison.Ordinal);
        Assert.Equal("text/plain; charset=utf-8", response.ContentType());
    }

    [Fact]
    public async Task RegistryPaths_AreNotServedOnTheMetadataListener()
    {
        var (response, _) = await Lab.Client(KubernetesLab.NodeAddress.ToString()).GetWithBodyAsync("/registry/v1/node-token");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }
}
