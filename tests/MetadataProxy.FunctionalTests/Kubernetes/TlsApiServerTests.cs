using MetadataProxy.FunctionalTests.Infrastructure;

namespace MetadataProxy.FunctionalTests.Kubernetes;

/// <summary>A lab whose Kubernetes API speaks TLS and HTTP/2, as a real API server does.</summary>
public sealed class TlsLab : IAsyncLifetime
{
    public KubernetesLab Lab { get; } = new() { Tls = true };

    public ValueTask InitializeAsync() => Lab.InitializeAsync();

    public ValueTask DisposeAsync() => Lab.DisposeAsync();
}

/// <summary>The real KubernetesClient through the kubeconfig's CA, over HTTP/2: list, watch, ServiceAccount reads and TokenRequests.</summary>
public sealed class TlsApiServerTests(TlsLab fixture) : IClassFixture<TlsLab>
{
    private const string Sa = "/computeMetadata/v1/instance/service-accounts/default";
    private readonly KubernetesLab lab = fixture.Lab;

    [Fact]
    public async Task OverTlsAndHttp2_PodsResolveAndTokensAreMinted()
    {
        Assert.Equal("https", lab.Kube.BaseAddress.Scheme);
        lab.Google.AllowImpersonation(KubernetesLab.PrincipalOf("tls", "web"), "web@test-project.iam.gserviceaccount.com");
        lab.AddPod("tls", "web-1", "127.0.0.120", "web", gsa: "web@test-project.iam.gserviceaccount.com");
        await lab.WaitForEmailAsync("127.0.0.120", "web@test-project.iam.gserviceaccount.com");

        var (response, body) = await lab.Client("127.0.0.120").GetWithBodyAsync($"{Sa}/token");
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{response.StatusCode}: {body}");
        Assert.Contains(lab.Kube.TokenRequestsMade, r => r.ServiceAccount == "web" && r.StatusCode == 201);

        // The watch is an HTTP/2 stream and carries the deletion.
        Assert.Equal("HTTP/2", lab.Kube.WatchProtocols[^1]);
        lab.Kube.DeletePod("tls", "web-1");
        await KubernetesLab.WaitUntilAsync(async () =>
            (await lab.Client("127.0.0.120").GetWithBodyAsync($"{Sa}/email")).Response.StatusCode == HttpStatusCode.ServiceUnavailable);
    }
}
