using System.Text.Json.Nodes;
using MetadataProxy.FunctionalTests.Infrastructure;
using MetadataProxy.TestServers.Google;
using MetadataProxy.TestServers.Jwt;

namespace MetadataProxy.FunctionalTests.Standalone;

/// <summary>
/// A standalone server whose Application Default Credentials are an <c>external_account</c> file pointing at the
/// Google test server, so Google.Apis.Auth runs unchanged: STS exchange, then IAM Credentials impersonation.
/// </summary>
public sealed class StandaloneGoogle : IAsyncLifetime
{
    public const string ProjectNumber = "123456789012";
    public const string Issuer = "https://developer.test.example";
    public const string DeveloperSubject = "developer@example.com";
    public const string UnboundServiceAccount = "other@test-project.iam.gserviceaccount.com";

    /// <summary>Impersonates the fixture's Google service account.</summary>
    public static readonly IPAddress AppCaller = IPAddress.Parse("127.0.0.1");

    /// <summary>No Google service account: the developer's own federated token.</summary>
    public static readonly IPAddress DirectCaller = IPAddress.Parse("127.0.0.2");

    /// <summary>Impersonates an account the developer has no binding on.</summary>
    public static readonly IPAddress UnboundCaller = IPAddress.Parse("127.0.0.4");

    private readonly string _directory = Directory.CreateTempSubdirectory("metadata-proxy-adc-").FullName;
    private ProxyServer? _server;
    private GoogleTestServer? _google;

    public JwtSigner Signer { get; } = new("developer-key-1");

    internal ProxyServer Server => _server ?? throw new InvalidOperationException("Not started.");

    public GoogleTestServer Google => _google ?? throw new InvalidOperationException("Not started.");

    public static string Audience => GoogleTestServer.ProviderResourceName(ProjectNumber, "dev-pool", "dev-provider");

    public static string DeveloperPrincipal => GoogleTestServer.PrincipalFor(ProjectNumber, "dev-pool", DeveloperSubject);

    public string SubjectTokenFile => Path.Combine(_directory, "subject.jwt");

    public HttpClient Client(IPAddress caller) => Server.CreateClient(caller);

    public async ValueTask InitializeAsync()
    {
        _google = await GoogleTestServer.StartAsync(TestContext.Current.CancellationToken);
        Google.AddProvider(ProjectNumber, "dev-pool", "dev-provider", Issuer, JwksSource.FromJson(Signer.JwksJson()));
        Google.AllowImpersonation(DeveloperPrincipal, Fixture.AppServiceAccount);
        WriteSubjectToken(TimeSpan.FromHours(1));

        var adc = Path.Combine(_directory, "adc.json");
        await File.WriteAllTextAsync(adc, new JsonObject
        {
            ["type"] = "external_account",
            ["audience"] = Audience,
            ["subject_token_type"] = "urn:ietf:params:oauth:token-type:jwt",
            ["token_url"] = Google.StsTokenUrl.AbsoluteUri,
            ["credential_source"] = new JsonObject { ["file"] = SubjectTokenFile },
        }.ToJsonString());

        var settings = Fixture.MetadataSettings();
        settings["Standalone:CredentialsFile"] = adc;
        settings["WorkloadIdentity:IamCredentialsEndpoint"] = Google.IamCredentialsBaseUrl.AbsoluteUri;
        settings["Standalone:Identities:0:Cidr"] = "127.0.0.1/32";
        settings["Standalone:Identities:0:GoogleServiceAccount"] = Fixture.AppServiceAccount;
        settings["Standalone:Identities:1:Cidr"] = "127.0.0.2/32";
        settings["Standalone:Identities:2:Cidr"] = "127.0.0.4/32";
        settings["Standalone:Identities:2:GoogleServiceAccount"] = UnboundServiceAccount;
        _server = await ProxyServer.StartAsync(settings);
    }

    /// <summary>The developer's subject token, as an identity provider would leave it in a file.</summary>
    public void WriteSubjectToken(TimeSpan lifetime)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        File.WriteAllText(SubjectTokenFile, Signer.Sign(new JsonObject
        {
            ["iss"] = Issuer,
            ["sub"] = DeveloperSubject,
            ["aud"] = Audience,
            ["iat"] = now - 10,
            ["exp"] = now + (long)lifetime.TotalSeconds,
        }));
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
            await _server.DisposeAsync();
        if (_google is not null)
            await _google.DisposeAsync();
        Signer.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
