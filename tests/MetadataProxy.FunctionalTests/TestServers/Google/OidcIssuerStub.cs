using System.Text.Json.Nodes;
using MetadataProxy.TestServers.Jwt;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace MetadataProxy.FunctionalTests.TestServers.Google;

/// <summary>A public-issuer look-alike: OIDC discovery and a JWKS on loopback, which can be switched off.</summary>
internal sealed class OidcIssuerStub : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly JwtSigner _signer;

    private OidcIssuerStub(WebApplication app, JwtSigner signer, string issuer)
    {
        _app = app;
        _signer = signer;
        Issuer = issuer;
    }

    /// <summary>The base URL without a trailing slash, as it appears in <c>iss</c>.</summary>
    public string Issuer { get; }

    public Uri JwksUri => new(Issuer + "/keys");

    public bool Available { get; set; } = true;

    public int Fetches { get; private set; }

    public static async Task<OidcIssuerStub> StartAsync(JwtSigner signer, CancellationToken ct)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        OidcIssuerStub? stub = null;
        app.MapGet("/.well-known/openid-configuration", () => stub!.Answer(new JsonObject
        {
            ["issuer"] = stub.Issuer,
            ["jwks_uri"] = stub.JwksUri.AbsoluteUri,
        }.ToJsonString()));
        app.MapGet("/keys", () => stub!.Answer(signer.JwksJson()));
        await app.StartAsync(ct);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        stub = new OidcIssuerStub(app, signer, address.TrimEnd('/'));
        return stub;
    }

    public string Mint(string audience)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        return _signer.Sign(new JsonObject
        {
            ["iss"] = Issuer,
            ["sub"] = FederationScenario.KsaSubject,
            ["aud"] = audience,
            ["iat"] = now,
            ["exp"] = now + 600,
        });
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private IResult Answer(string json)
    {
        Fetches++;
        return Available ? Results.Content(json, "application/json") : Results.StatusCode(503);
    }
}
