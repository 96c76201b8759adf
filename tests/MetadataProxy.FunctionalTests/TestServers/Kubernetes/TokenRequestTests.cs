using System.Text.Json.Nodes;
using k8s;
using k8s.Autorest;
using k8s.Models;
using MetadataProxy.TestServers.Jwt;

namespace MetadataProxy.FunctionalTests.TestServers.Kubernetes;

public sealed class TokenRequestTests : KubernetesServerFixture
{
    private const string Audience = "//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/providers/k";

    [Fact]
    public async Task CreateToken_BoundToPod_SignsAJwtWithTheKubernetesClaims()
    {
        var (sa, pod, node) = AddWorkload();

        var response = await Client.CoreV1.CreateNamespacedServiceAccountTokenAsync(Request(pod, 3600), "builder", "apps", cancellationToken: Ct);

        Assert.True(JwtVerifier.TryVerify(response.Status.Token, JsonNode.Parse(Server.JwksJson)!.AsObject(), out var claims, out var error), error);
        Assert.Equal(Server.Issuer, (string?)claims!["iss"]);
        Assert.Equal("system:serviceaccount:apps:builder", (string?)claims["sub"]);
        Assert.Equal(Audience, (string?)claims["aud"]!.AsArray().Single());
        Assert.Equal(3600, (long)claims["exp"]! - (long)claims["iat"]!);
        Assert.Equal((long)claims["iat"]!, (long)claims["nbf"]!);
        Assert.False(string.IsNullOrEmpty((string?)claims["jti"]));
        var k = claims["kubernetes.io"]!;
        Assert.Equal("apps", (string?)k["namespace"]);
        Assert.Equal(("builder", sa.Metadata.Uid), ((string?)k["serviceaccount"]!["name"], (string?)k["serviceaccount"]!["uid"]));
        Assert.Equal(("web-1", pod.Metadata.Uid), ((string?)k["pod"]!["name"], (string?)k["pod"]!["uid"]));
        Assert.Equal(("node-a", node.Metadata.Uid), ((string?)k["node"]!["name"], (string?)k["node"]!["uid"]));
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds((long)claims["exp"]!).UtcDateTime, response.Status.ExpirationTimestamp);
        Assert.Equal(3600, response.Spec.ExpirationSeconds);
        Assert.Equal(201, Assert.Single(Server.TokenRequestsMade).StatusCode);
    }

    [Fact]
    public async Task CreateToken_NoAudiences_DefaultsToTheIssuer()
    {
        var (_, pod, _) = AddWorkload();
        var request = Request(pod, 3600);
        request.Spec.Audiences = [];

        var response = await Client.CoreV1.CreateNamespacedServiceAccountTokenAsync(request, "builder", "apps", cancellationToken: Ct);

        Assert.Equal([Server.Issuer], response.Spec.Audiences);
        Assert.True(JwtVerifier.TryVerify(response.Status.Token, JsonNode.Parse(Server.JwksJson)!.AsObject(), out var claims, out _));
        Assert.Equal(Server.Issuer, (string?)claims!["aud"]![0]);
    }

    [Fact]
    public async Task CreateToken_AboveMaxTokenExpiration_IsShortened()
    {
        Server.MaxTokenExpiration = TimeSpan.FromHours(1);
        var (_, pod, _) = AddWorkload();

        var response = await Client.CoreV1.CreateNamespacedServiceAccountTokenAsync(Request(pod, 48 * 3600), "builder", "apps", cancellationToken: Ct);

        Assert.Equal(3600, response.Spec.ExpirationSeconds);
        Assert.Equal(48 * 3600, Assert.Single(Server.TokenRequestsMade).ExpirationSeconds);
    }

    [Fact]
    public async Task CreateToken_UnderTenMinutes_Returns422Invalid()
    {
        var (_, pod, _) = AddWorkload();

        var status = await RejectedAsync(Request(pod, 599), "builder", HttpStatusCode.UnprocessableEntity);

        Assert.Equal("Invalid", (string?)status["reason"]);
        Assert.Equal("TokenRequest.authentication.k8s.io \"\" is invalid: spec.expirationSeconds: Invalid value: 599: may not specify a duration less than 10 minutes", (string?)status["message"]);
        Assert.Equal("spec.expirationSeconds", (string?)status["details"]!["causes"]![0]!["field"]);
    }

    [Fact]
    public async Task CreateToken_UnknownServiceAccount_Returns404()
    {
        var (_, pod, _) = AddWorkload();

        var status = await RejectedAsync(Request(pod, 3600), "nobody", HttpStatusCode.NotFound);

        Assert.Equal("serviceaccounts \"nobody\" not found", (string?)status["message"]);
        Assert.Equal(404, Assert.Single(Server.TokenRequestsMade).StatusCode);
    }

    [Fact]
    public async Task CreateToken_BoundPodGone_Returns404()
    {
        var (_, pod, _) = AddWorkload();
        Server.DeletePod("apps", "web-1");

        var status = await RejectedAsync(Request(pod, 3600), "builder", HttpStatusCode.NotFound);

        Assert.Equal("pods \"web-1\" not found", (string?)status["message"]);
    }

    [Fact]
    public async Task CreateToken_BoundPodRecreatedWithNewUid_Returns409()
    {
        var (_, pod, _) = AddWorkload();
        Server.DeletePod("apps", "web-1");
        Server.AddPod(TestPods.Running("apps", "web-1", "node-a", "10.0.0.1", "builder"));

        var status = await RejectedAsync(Request(pod, 3600), "builder", HttpStatusCode.Conflict);

        Assert.Equal("Conflict", (string?)status["reason"]);
        Assert.Equal(
            $"Operation cannot be fulfilled on Pod \"web-1\": the UID in the bound object reference ({pod.Metadata.Uid}) does not match the UID in record. The object might have been deleted and then recreated",
            (string?)status["message"]);
    }

    [Fact]
    public async Task CreateToken_PodRunsAsAnotherServiceAccount_Returns400()
    {
        var (_, pod, _) = AddWorkload();
        Server.AddServiceAccount(TestPods.ServiceAccount("apps", "other"));

        var status = await RejectedAsync(Request(pod, 3600), "other", HttpStatusCode.BadRequest);

        Assert.Equal("cannot bind token for serviceaccount \"other\" to pod running with different serviceaccount name.", (string?)status["message"]);
        Assert.Equal("BadRequest", Assert.Single(Server.TokenRequestsMade).Reason);
    }

    [Fact]
    public async Task CreateToken_PodNodeMissing_NamesTheNodeWithoutUid()
    {
        Server.AddServiceAccount(TestPods.ServiceAccount("apps", "builder"));
        var pod = Server.AddPod(TestPods.Running("apps", "web-1", "node-gone", "10.0.0.1", "builder"));

        var response = await Client.CoreV1.CreateNamespacedServiceAccountTokenAsync(Request(pod, 3600), "builder", "apps", cancellationToken: Ct);

        Assert.True(JwtVerifier.TryVerify(response.Status.Token, JsonNode.Parse(Server.JwksJson)!.AsObject(), out var claims, out _));
        var node = claims!["kubernetes.io"]!["node"]!.AsObject();
        Assert.Equal("node-gone", (string?)node["name"]);
        Assert.False(node.ContainsKey("uid"));
    }

    private (V1ServiceAccount Sa, V1Pod Pod, V1Node Node) AddWorkload() => (
        Server.AddServiceAccount(TestPods.ServiceAccount("apps", "builder")),
        Server.AddPod(TestPods.Running("apps", "web-1", "node-a", "10.0.0.1", "builder")),
        Server.AddNode(TestPods.Node("node-a")));

    private static Authenticationv1TokenRequest Request(V1Pod pod, long expirationSeconds) => new()
    {
        Spec = new V1TokenRequestSpec
        {
            Audiences = [Audience],
            ExpirationSeconds = expirationSeconds,
            BoundObjectRef = new V1BoundObjectReference { ApiVersion = "v1", Kind = "Pod", Name = pod.Metadata.Name, Uid = pod.Metadata.Uid },
        },
    };

    private async Task<JsonNode> RejectedAsync(Authenticationv1TokenRequest request, string serviceAccount, HttpStatusCode expected)
    {
        var e = await Assert.ThrowsAsync<HttpOperationException>(() =>
            Client.CoreV1.CreateNamespacedServiceAccountTokenAsync(request, serviceAccount, "apps", cancellationToken: Ct));
        Assert.Equal(expected, e.Response.StatusCode);
        var status = JsonNode.Parse(e.Response.Content)!;
        Assert.Equal("Status", (string?)status["kind"]);
        Assert.Equal((int)expected, (int?)status["code"]);
        return status;
    }
}
