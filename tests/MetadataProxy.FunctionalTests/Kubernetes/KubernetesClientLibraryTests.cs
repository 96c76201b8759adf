using System.Text.Json.Nodes;
using Google.Apis.Auth.OAuth2;
using MetadataProxy.FunctionalTests.Infrastructure;
using MetadataProxy.FunctionalTests.Standalone;
using MetadataProxy.TestServers.Jwt;

namespace MetadataProxy.FunctionalTests.Kubernetes;

/// <summary>
/// A real client, unchanged, calling from a pod's address: Google.Apis.Auth's ComputeCredential (GCE_METADATA_HOST)
/// gets that pod's token and ID token. The pod's address is 127.0.0.1, the address this process's own connections
/// leave from; another pod with another KSA gets another identity.
/// </summary>
[Collection(ProcessEnvironment.Name)]
public sealed class KubernetesClientLibraryTests(KubernetesLab lab) : IClassFixture<KubernetesLab>
{
    [Fact]
    public async Task ComputeCredential_FromAPodsAddress_GetsThatPodsIdentity()
    {
        const string Gsa = "library@test-project.iam.gserviceaccount.com";
        lab.Google.AllowImpersonation(KubernetesLab.PrincipalOf("lib", "library"), Gsa);
        lab.AddPod("lib", "library-1", "127.0.0.1", "library", gsa: Gsa);
        lab.AddPod("lib", "other-1", "127.0.0.95", "other");
        await KubernetesLab.WaitUntilAsync(async () =>
            (await lab.Client("127.0.0.1").GetAsync("/computeMetadata/v1/instance/service-accounts/default/email", flavor: true)).StatusCode == HttpStatusCode.OK);

        var previous = Environment.GetEnvironmentVariable("GCE_METADATA_HOST");
        Environment.SetEnvironmentVariable("GCE_METADATA_HOST", lab.Proxy.HostAndPort);
        try
        {
            var ct = TestContext.Current.CancellationToken;
            var credential = new ComputeCredential();
            var accessToken = await ((ITokenAccess)credential).GetAccessTokenForRequestAsync(cancellationToken: ct);
            Assert.Equal(Gsa, lab.Google.DescribeAccessToken(accessToken)!.ServiceAccountEmail);
            Assert.Equal(Gsa, await credential.GetDefaultServiceAccountEmailAsync(ct));

            var oidc = await credential.GetOidcTokenAsync(OidcTokenOptions.FromTargetAudience("https://svc.example"), ct);
            var jwt = await oidc.GetAccessTokenAsync(ct);
            Assert.True(JwtVerifier.TryVerify(jwt, JsonNode.Parse(lab.Google.GoogleJwksJson)!.AsObject(), out var claims, out var error), error);
            Assert.Equal(Gsa, (string?)claims!["email"]);

            var (response, other) = await lab.Client("127.0.0.95").GetWithBodyAsync("/computeMetadata/v1/instance/service-accounts/default/token");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.DoesNotContain(accessToken, other, StringComparison.Ordinal);
        }
        finally
        {
            Environment.SetEnvironmentVariable("GCE_METADATA_HOST", previous);
        }
    }
}
