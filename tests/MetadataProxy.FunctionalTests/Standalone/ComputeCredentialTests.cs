using System.Text.Json.Nodes;
using Google.Apis.Auth.OAuth2;
using MetadataProxy.FunctionalTests.Infrastructure;
using MetadataProxy.TestServers.Jwt;

namespace MetadataProxy.FunctionalTests.Standalone;

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessEnvironment
{
    /// <summary>Tests that set process-wide environment variables such as GCE_METADATA_HOST run alone.</summary>
    public const string Name = "process environment";
}

/// <summary>
/// A real client, unchanged: Google.Apis.Auth's <see cref="ComputeCredential"/> finds the server through
/// <c>GCE_METADATA_HOST</c>, as on a VM, and gets access and ID tokens through it (spec §8 scenario 5).
/// </summary>
[Collection(ProcessEnvironment.Name)]
public sealed class ComputeCredentialTests(StandaloneGoogle fixture) : IClassFixture<StandaloneGoogle>
{
    [Fact]
    public async Task T_4_ComputeCredential_ThroughTheServer_GetsTheIdentitysAccessAndIdTokens()
    {
        using var environment = new EnvironmentVariable("GCE_METADATA_HOST", fixture.Server.HostAndPort);
        var credential = new ComputeCredential();
        var ct = TestContext.Current.CancellationToken;

        var accessToken = await ((ITokenAccess)credential).GetAccessTokenForRequestAsync(cancellationToken: ct);
        var info = fixture.Google.DescribeAccessToken(accessToken);
        Assert.NotNull(info);
        Assert.Equal(Fixture.AppServiceAccount, info.ServiceAccountEmail);
        Assert.Equal(Fixture.AppServiceAccount, await credential.GetDefaultServiceAccountEmailAsync(ct));
        Assert.Equal("googleapis.com", await credential.ToGoogleCredential().GetUniverseDomainAsync(ct));

        var oidc = await credential.GetOidcTokenAsync(OidcTokenOptions.FromTargetAudience("https://svc.example").WithTokenFormat(OidcTokenFormat.Full), ct);
        var idToken = await oidc.GetAccessTokenAsync(ct);
        Assert.True(JwtVerifier.TryVerify(idToken, JsonNode.Parse(fixture.Google.GoogleJwksJson)!.AsObject(), out var claims, out var error), error);
        Assert.Equal("https://svc.example", (string?)claims!["aud"]);
        Assert.Equal(Fixture.AppServiceAccount, (string?)claims["email"]);
    }

    [Fact]
    public async Task ComputeCredential_Detection_FindsTheServer()
    {
        using var environment = new EnvironmentVariable("GCE_METADATA_HOST", fixture.Server.HostAndPort);
        var credential = await GoogleCredential.GetApplicationDefaultAsync(TestContext.Current.CancellationToken);
        Assert.IsType<ComputeCredential>(credential.UnderlyingCredential);
    }

    private sealed class EnvironmentVariable : IDisposable
    {
        private readonly string _name;
        private readonly string? _previous;

        public EnvironmentVariable(string name, string value)
        {
            _name = name;
            _previous = Environment.GetEnvironmentVariable(name);
            Environment.SetEnvironmentVariable(name, value);
        }

        public void Dispose() => Environment.SetEnvironmentVariable(_name, _previous);
    }
}
