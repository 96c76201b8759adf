using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Google.Apis.Auth.OAuth2;
using MetadataProxy.TestServers.Google;
using MetadataProxy.TestServers.Jwt;

namespace MetadataProxy.FunctionalTests.TestServers.Google;

/// <summary>
/// A running <see cref="GoogleTestServer"/> with one Kubernetes-like OIDC provider (uploaded JWKS), one KSA bound
/// to one GSA, and the Google.Apis.Auth credentials a workload would build against it.
/// </summary>
internal sealed class FederationScenario : IAsyncDisposable
{
    public const string ProjectNumber = "123456789012";
    public const string PoolId = "test-pool";
    public const string ProviderId = "kubernetes";
    public const string Issuer = "https://kubernetes.test.example";
    public const string Gsa = "app@test-project.iam.gserviceaccount.com";
    public const string KsaSubject = "system:serviceaccount:team-a:app";
    public const string CloudPlatform = "https://www.googleapis.com/auth/cloud-platform";
    public const string IamScope = "https://www.googleapis.com/auth/iam";

    private FederationScenario(GoogleTestServer google) => Google = google;

    public static string Audience => GoogleTestServer.ProviderResourceName(ProjectNumber, PoolId, ProviderId);

    public static string KsaPrincipal => GoogleTestServer.PrincipalFor(ProjectNumber, PoolId, KsaSubject);

    public GoogleTestServer Google { get; }

    public JwtSigner KubeSigner { get; } = new("kube-key-1");

    public HttpClient Http { get; } = new();

    public static async Task<FederationScenario> StartAsync(CancellationToken ct)
    {
        var scenario = new FederationScenario(await GoogleTestServer.StartAsync(ct));
        scenario.Google.AddProvider(ProjectNumber, PoolId, ProviderId, Issuer, JwksSource.FromJson(scenario.KubeSigner.JwksJson()));
        scenario.Google.AllowImpersonation(KsaPrincipal, Gsa);
        return scenario;
    }

    /// <summary>A KSA token valid for 10 minutes from the server's clock; <paramref name="edit"/> may change any claim.</summary>
    public string MintSubjectToken(Action<JsonObject>? edit = null, JwtSigner? signer = null)
    {
        var now = Google.Time.GetUtcNow().ToUnixTimeSeconds();
        var claims = new JsonObject
        {
            ["iss"] = Issuer,
            ["sub"] = KsaSubject,
            ["aud"] = new JsonArray(Audience),
            ["iat"] = now,
            ["nbf"] = now,
            ["exp"] = now + 600,
        };
        edit?.Invoke(claims);
        return (signer ?? KubeSigner).Sign(claims);
    }

    /// <summary>The STS leg: token URL, provider audience, JWT subject tokens minted on demand.</summary>
    public ProgrammaticExternalAccountCredential ExternalAccountCredential(Func<string>? subjectToken = null) =>
        new(new ProgrammaticExternalAccountCredential.Initializer(
            Google.StsTokenUrl.AbsoluteUri,
            Audience,
            "urn:ietf:params:oauth:token-type:jwt",
            new DelegateSubjectTokenProvider(subjectToken ?? (() => MintSubjectToken())))
        {
            Scopes = [CloudPlatform],
        });

    /// <summary>STS then generateAccessToken/generateIdToken for <paramref name="gsa"/>, IAM calls redirected here.</summary>
    public GoogleCredential ImpersonatedCredential(string gsa = Gsa, string? quotaProject = null)
    {
        var source = GoogleCredential.FromProgrammaticExternalAccountCredential(ExternalAccountCredential());
        if (quotaProject is not null)
        {
            source = source.CreateWithQuotaProject(quotaProject);
        }

        return source.Impersonate(new global::Google.Apis.Auth.OAuth2.ImpersonatedCredential.Initializer(gsa)
        {
            Scopes = [CloudPlatform],
            HttpClientFactory = new RedirectingHttpClientFactory(Google.IamCredentialsBaseUrl),
        });
    }

    /// <summary>The form Google.Apis.Auth sends, with <paramref name="edit"/> applied; returns the status and JSON body.</summary>
    public async Task<(int Status, JsonObject Body)> PostStsAsync(string subjectToken, Action<Dictionary<string, string>>? edit = null)
    {
        var form = new Dictionary<string, string>
        {
            ["grant_type"] = "urn:ietf:params:oauth:grant-type:token-exchange",
            ["audience"] = Audience,
            ["scope"] = CloudPlatform,
            ["requested_token_type"] = "urn:ietf:params:oauth:token-type:access_token",
            ["subject_token"] = subjectToken,
            ["subject_token_type"] = "urn:ietf:params:oauth:token-type:jwt",
        };
        edit?.Invoke(form);
        using var content = new FormUrlEncodedContent(form);
        using var response = await Http.PostAsync(Google.StsTokenUrl, content, TestContext.Current.CancellationToken);
        return ((int)response.StatusCode, await ReadJsonAsync(response));
    }

    /// <summary>POST {email}:{verb} with an optional bearer and extra headers; returns the response.</summary>
    public async Task<HttpResponseMessage> PostIamAsync(string verb, string? bearer, string json, string email = Gsa, string? userProject = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(Google.IamCredentialsBaseUrl, $"v1/projects/-/serviceAccounts/{email}:{verb}"))
        {
            Content = new StringContent(json, Encoding.UTF8, "application/json"),
        };
        if (bearer is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }

        if (userProject is not null)
        {
            request.Headers.Add("x-goog-user-project", userProject);
        }

        return await Http.SendAsync(request, TestContext.Current.CancellationToken);
    }

    /// <summary>A bearer for the bound KSA, as STS would issue it.</summary>
    public string KsaBearer() => Google.IssueAccessToken(KsaPrincipal);

    public static async Task<JsonObject> ReadJsonAsync(HttpResponseMessage response) =>
        JsonNode.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken))!.AsObject();

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await Google.DisposeAsync();
        KubeSigner.Dispose();
    }
}
