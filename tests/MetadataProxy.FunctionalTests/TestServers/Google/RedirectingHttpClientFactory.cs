using Google.Apis.Http;
using MetadataProxy.TestServers.Google;

namespace MetadataProxy.FunctionalTests.TestServers.Google;

/// <summary>
/// How to point Google.Apis.Auth at a non-Google IAM Credentials endpoint. ImpersonatedCredential has no public
/// way to set its URLs: it builds https://iamcredentials.{universe}/v1/projects/-/serviceAccounts/{email}:verb from
/// the source credential's universe domain. So the HTTP client factory's innermost handler rewrites the host.
/// Setting it on ImpersonatedCredential.Initializer.HttpClientFactory covers generateAccessToken,
/// generateIdToken and signBlob (all three clients come from that factory).
/// </summary>
internal sealed class RedirectingHttpClientFactory(Uri target) : HttpClientFactory
{
    protected override HttpMessageHandler CreateHandler(CreateHttpClientArgs args) =>
        new GoogleHostRedirectHandler(target) { InnerHandler = base.CreateHandler(args) };
}
