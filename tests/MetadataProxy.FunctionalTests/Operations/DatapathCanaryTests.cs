using MetadataProxy.FunctionalTests.Conformance;
using MetadataProxy.FunctionalTests.Infrastructure;

namespace MetadataProxy.FunctionalTests.Operations;

/// <summary>
/// The canary path of the datapath probe (issue 10, point 3): answered before any caller resolution, with the nonce
/// and the caller's address only, so an unknown caller (no pod) gets it as well, and nothing of an identity.
/// </summary>
public sealed class DatapathCanaryTests(ConformanceServer fixture) : IClassFixture<ConformanceServer>
{
    private const string Nonce = "0123456789abcdef0123456789ABCDEF";

    [Fact]
    public async Task Canary_UnknownCallerWithoutFlavorHeader_EchoesTheNonceAndTheCallersAddress()
    {
        var (response, body) = await fixture.Client(ConformanceServer.UnknownCaller).GetWithBodyAsync($"/metadata-proxy-canary/{Nonce}", flavor: false);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal($"metadata-proxy canary {Nonce} from 127.0.0.3\n", body);
        Assert.Equal("text/plain; charset=utf-8", response.ContentType());
    }

    [Theory]
    [InlineData("short")]
    [InlineData("0123456789abcdef-0123")]
    public async Task Canary_NonceNotLettersAndDigits_Is400(string nonce)
    {
        var (response, body) = await fixture.Client().GetWithBodyAsync($"/metadata-proxy-canary/{nonce}", flavor: false);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("The canary nonce must be 16 to 128 letters or digits.", body, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/metadata-proxy-canary/")]
    [InlineData($"/metadata-proxy-canary/{Nonce}/")]
    [InlineData($"/metadata-proxy-canary/{Nonce}/more")]
    public async Task Canary_OtherShapesOfThePath_Are404(string path)
    {
        using var response = await fixture.Client().GetAsync(path, flavor: false);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }
}
