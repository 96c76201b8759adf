using System.Text.Json.Nodes;
using MetadataProxy.FunctionalTests.Infrastructure;
using MetadataProxy.TestServers.Google;
using MetadataProxy.TestServers.Jwt;

namespace MetadataProxy.FunctionalTests.Hardening;

/// <summary>
/// A standalone server with small connection limits, one caller (<see cref="Victim"/>) that gets real tokens from the
/// Google test server through Google.Apis.Auth, and others free to flood it.
/// </summary>
internal sealed class HardenedServer : IAsyncDisposable
{
    public const int MaxConnections = 64;
    public const int MaxConnectionsPerSource = 40;
    public const int AdminMaxConnectionsPerSource = 8;

    /// <summary>The pod whose service must survive the flood: it impersonates the fixture's account.</summary>
    public static readonly IPAddress Victim = IPAddress.Parse("127.0.0.2");

    /// <summary>The hostile pod.</summary>
    public static readonly IPAddress Attacker = IPAddress.Parse("127.0.0.3");

    private const string ProjectNumber = "123456789012";
    private const string Issuer = "https://developer.test.example";
    private const string Subject = "developer@example.com";

    private readonly string _directory;
    private readonly GoogleTestServer _google;
    private readonly JwtSigner _signer;

    private HardenedServer(string directory, GoogleTestServer google, JwtSigner signer, ProxyServer server)
    {
        _directory = directory;
        _google = google;
        _signer = signer;
        Server = server;
    }

    public ProxyServer Server { get; }

    public static async Task<HardenedServer> StartAsync(IDictionary<string, string?>? overrides = null, TimeProvider? time = null)
    {
        var directory = Directory.CreateTempSubdirectory("metadata-proxy-hardening-").FullName;
        var google = await GoogleTestServer.StartAsync(TestContext.Current.CancellationToken);
        var signer = new JwtSigner("hardening-key-1");
        var audience = GoogleTestServer.ProviderResourceName(ProjectNumber, "dev-pool", "dev-provider");
        google.AddProvider(ProjectNumber, "dev-pool", "dev-provider", Issuer, JwksSource.FromJson(signer.JwksJson()));
        google.AllowImpersonation(GoogleTestServer.PrincipalFor(ProjectNumber, "dev-pool", Subject), Fixture.AppServiceAccount);
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var subjectToken = Path.Combine(directory, "subject.jwt");
        await File.WriteAllTextAsync(subjectToken, signer.Sign(new JsonObject
        {
            ["iss"] = Issuer, ["sub"] = Subject, ["aud"] = audience, ["iat"] = now - 10, ["exp"] = now + 3600,
        }), TestContext.Current.CancellationToken);
        var adc = Path.Combine(directory, "adc.json");
        await File.WriteAllTextAsync(adc, new JsonObject
        {
            ["type"] = "external_account",
            ["audience"] = audience,
            ["subject_token_type"] = "urn:ietf:params:oauth:token-type:jwt",
            ["token_url"] = google.StsTokenUrl.AbsoluteUri,
            ["credential_source"] = new JsonObject { ["file"] = subjectToken },
        }.ToJsonString(), TestContext.Current.CancellationToken);

        var settings = Fixture.MetadataSettings();
        settings["Standalone:CredentialsFile"] = adc;
        settings["WorkloadIdentity:IamCredentialsEndpoint"] = google.IamCredentialsBaseUrl.AbsoluteUri;
        settings["Standalone:Identities:0:Cidr"] = $"{Victim}/32";
        settings["Standalone:Identities:0:GoogleServiceAccount"] = Fixture.AppServiceAccount;
        settings["Listen:MaxConnections"] = MaxConnections.ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings["Listen:MaxConnectionsPerSource"] = MaxConnectionsPerSource.ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings["Listen:AdminMaxConnectionsPerSource"] = AdminMaxConnectionsPerSource.ToString(System.Globalization.CultureInfo.InvariantCulture);
        foreach (var (key, value) in overrides ?? new Dictionary<string, string?>())
        {
            if (value is null)
                settings.Remove(key); // back to the server's default
            else
                settings[key] = value;
        }
        try
        {
            return new HardenedServer(directory, google, signer, await ProxyServer.StartAsync(settings, time));
        }
        catch
        {
            await google.DisposeAsync();
            signer.Dispose();
            Directory.Delete(directory, recursive: true);
            throw;
        }
    }

    /// <summary>The victim's token, fetched over a new connection.</summary>
    public async Task<(HttpStatusCode Status, string Body)> VictimTokenAsync()
    {
        using var client = Server.CreateClient(Victim);
        client.Timeout = TimeSpan.FromSeconds(5);
        var (response, body) = await client.GetWithBodyAsync("/computeMetadata/v1/instance/service-accounts/default/token");
        using (response)
            return (response.StatusCode, body);
    }

    public HttpClient Admin(IPAddress? source = null)
    {
        var client = ProxyServer.CreateClient(Server.AdminUri, source);
        client.Timeout = TimeSpan.FromSeconds(5);
        return client;
    }

    /// <summary>The value of one series on <c>/metrics</c> (0 when absent), read from the node's own address.</summary>
    public async Task<double> MetricAsync(string series)
    {
        using var admin = Admin();
        var (_, body) = await admin.GetWithBodyAsync("/metrics", flavor: false);
        var line = body.Split('\n').FirstOrDefault(l => l.StartsWith(series + " ", StringComparison.Ordinal));
        return line is null ? 0 : double.Parse(line[(series.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        await _google.DisposeAsync();
        _signer.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
