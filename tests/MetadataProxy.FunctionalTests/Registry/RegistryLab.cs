using System.Net.Http.Json;
using System.Text.Json;
using k8s;
using k8s.Models;
using MetadataProxy.FunctionalTests.Kubernetes;

namespace MetadataProxy.FunctionalTests.Registry;

/// <summary>
/// The server in Kubernetes mode with its own pod, the node identity on the node socket and
/// <c>HostNetworkPolicy=NodeIdentity</c>; tokens minted the way the kubelet mints them for its plugin (KEP-4412).
/// </summary>
public sealed class RegistryLab : IAsyncLifetime
{
    public static readonly string ProviderAudience =
        $"https://iam.googleapis.com/projects/{KubernetesLab.ProjectNumber}/locations/global/workloadIdentityPools/{KubernetesLab.PoolId}/providers/{KubernetesLab.ProviderId}";

    public KubernetesLab Lab { get; } = new() { WithNodeIdentity = true };

    public async ValueTask InitializeAsync()
    {
        Lab.Settings["Identity:HostNetworkPolicy"] = "NodeIdentity";
        await Lab.InitializeAsync();
    }

    public ValueTask DisposeAsync() => Lab.DisposeAsync();

    /// <summary>What the kubelet does for a pod's image pull: a TokenRequest for the pod's account, bound to the pod.</summary>
    public async Task<string> KubeletTokenAsync(V1Pod pod, string? audience = null)
    {
        using var client = new k8s.Kubernetes(Lab.Kube.ClientConfiguration());
        var issued = await client.CoreV1.CreateNamespacedServiceAccountTokenAsync(
            new Authenticationv1TokenRequest
            {
                Spec = new V1TokenRequestSpec
                {
                    Audiences = [audience ?? ProviderAudience],
                    ExpirationSeconds = 3600,
                    BoundObjectRef = new V1BoundObjectReference { ApiVersion = "v1", Kind = "Pod", Name = pod.Metadata.Name, Uid = pod.Metadata.Uid },
                },
            },
            pod.Spec.ServiceAccountName, pod.Metadata.NamespaceProperty, cancellationToken: TestContext.Current.CancellationToken);
        return issued.Status.Token;
    }

    public async Task<(HttpResponseMessage Response, string Body)> PostPodTokenAsync(object body, bool flavor = true)
    {
        using var client = Lab.NodeSocketClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/registry/v1/pod-token") { Content = JsonContent.Create(body) };
        if (flavor)
            request.Headers.Add("Metadata-Flavor", "Google");
        var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
        return (response, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    public static (string AccessToken, long ExpiresIn) ParseToken(string json)
    {
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        Assert.Equal(["access_token", "expires_in", "token_type"], root.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal("Bearer", root.GetProperty("token_type").GetString());
        return (root.GetProperty("access_token").GetString()!, root.GetProperty("expires_in").GetInt64());
    }
}
