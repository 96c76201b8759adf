using MetadataProxy.FunctionalTests.Infrastructure;

namespace MetadataProxy.FunctionalTests.Conformance;

/// <summary>
/// Malformed and hostile paths, queries and headers: each gets a 4xx, never a 5xx and never data it should not.
/// Rows marked "kestrel" are refused by Kestrel's HTTP parser before the server sees them: those answers carry
/// no body. Every other refusal says why.
/// </summary>
public sealed class HostileInputTests(ConformanceServer fixture) : IClassFixture<ConformanceServer>
{
    private const string Flavor = "Metadata-Flavor: Google\r\n";
    private const string Sa = "/computeMetadata/v1/instance/service-accounts/default";

    public static TheoryData<string, string, string, int, bool> Cases() => new()
    {
        // name, request target, extra headers, expected status, refused by Kestrel itself
        { "dot-dot above the root", "/../../etc/passwd", Flavor, 404, false },
        { "dot-dot out of v1", "/computeMetadata/v1/../../etc/passwd", Flavor, 404, false },
        { "encoded dot-dot", "/computeMetadata/v1/%2e%2e/%2e%2e/etc/passwd", Flavor, 404, false },
        { "encoded dot-dot into concealed", "/computeMetadata/v1/instance/service-accounts/%2e%2e/attributes/kube-env", Flavor, 404, false },
        { "encoded letter in concealed key", "/computeMetadata/v1/instance/attributes/%6bube-env", Flavor, 404, false },
        { "concealed key with slash", "/computeMetadata/v1/instance/attributes/kube-env/", Flavor, 404, false },
        { "concealed key with alt", "/computeMetadata/v1/instance/attributes/kube-env?alt=json", Flavor, 404, false },
        { "concealed key recursive", "/computeMetadata/v1/instance/attributes/kube-env?recursive=true", Flavor, 404, false },
        { "concealed project ssh keys", "/computeMetadata/v1/project/attributes/ssh-keys", Flavor, 404, false },
        { "encoded slash after concealed key", "/computeMetadata/v1/instance/attributes/kube-env%2f", Flavor, 404, false },
        { "encoded slash traversal", "/computeMetadata/v1/instance/%2e%2e%2fattributes/kube-env", Flavor, 404, false },
        { "upper-case concealed key", "/computeMetadata/v1/instance/attributes/KUBE-ENV", Flavor, 404, false },
        { "encoded NUL in path", "/computeMetadata/v1/project/project-id%00", Flavor, 400, true },
        { "encoded CRLF in path", "/computeMetadata/v1/project/project-id%0d%0aX-Injected:%201", Flavor, 400, false },
        { "encoded NUL segment", "/computeMetadata/v1/%00/", Flavor, 400, true },
        { "backslashes", "/computeMetadata\\v1\\project\\project-id", Flavor, 404, false },
        { "upper-case version", "/computeMetadata/V1/project/project-id", Flavor, 404, false },
        { "upper-case root", "/COMPUTEMETADATA/v1/project/project-id", Flavor, 404, false },
        { "matrix parameter", "/computeMetadata/v1/project/project-id;jsessionid=x", Flavor, 404, false },
        { "unicode key", "/computeMetadata/v1/proj%C3%A9ct/", Flavor, 404, false },
        { "invalid utf-8", "/computeMetadata/v1/%C3%28/", Flavor, 404, false },
        { "unknown api version", "/computeMetadata/v2/project/project-id", Flavor, 404, false },
        { "legacy v1beta1 without flavor", "/computeMetadata/v1beta1/instance/attributes/kube-env", "", 403, false },
        { "legacy 0.1", "/0.1/meta-data/attributes/kube-env", "", 403, false },
        { "trailing slash on token", Sa + "/token/", Flavor, 404, false },
        { "index into token", Sa + "/token/0", Flavor, 404, false },
        { "index into email", Sa + "/email/0", Flavor, 404, false },
        { "NUL in service account name", "/computeMetadata/v1/instance/service-accounts/default%00/email", Flavor, 400, true },
        { "duplicate alt", "/computeMetadata/v1/project/project-id?alt=json&alt=text", Flavor, 400, false },
        { "unknown alt", "/computeMetadata/v1/?recursive=true&alt=yaml", Flavor, 400, false },
        { "NUL alt", "/computeMetadata/v1/project/project-id?alt=%00", Flavor, 400, false },
        { "alt on listing", "/computeMetadata/v1/instance/?alt=json", Flavor, 400, false },
        { "overflowing timeout", "/computeMetadata/v1/project/project-id?wait_for_change=true&timeout_sec=99999999999999999999", Flavor, 400, false },
        { "negative timeout", "/computeMetadata/v1/project/project-id?wait_for_change=true&timeout_sec=-5", Flavor, 400, false },
        { "blank timeout", "/computeMetadata/v1/project/project-id?wait_for_change=true&timeout_sec=%20", Flavor, 400, false },
        { "hex timeout", "/computeMetadata/v1/project/project-id?wait_for_change=true&timeout_sec=0x10", Flavor, 400, false },
        { "wait on listing", "/computeMetadata/v1/instance/?wait_for_change=true", Flavor, 400, false },
        { "wait on token", Sa + "/token?wait_for_change=true", Flavor, 400, false },
        { "wait on identity", Sa + "/identity?audience=x&wait_for_change=true", Flavor, 400, false },
        { "identity without audience", Sa + "/identity", Flavor, 400, false },
        { "identity with empty audience", Sa + "/identity?audience=", Flavor, 400, false },
        { "identity with unknown format", Sa + "/identity?audience=x&format=weird", Flavor, 400, false },
        { "identity with unknown licenses", Sa + "/identity?audience=x&licenses=maybe", Flavor, 400, false },
        { "enforce_scopes=false", Sa + "/token?enforce_scopes=false&scopes=https://x", Flavor, 400, false },
        { "enforce_scopes=no", Sa + "/token?enforce_scopes=no", Flavor, 400, false },
        { "scope that is no URL", Sa + "/token?scopes=cloud-platform", Flavor, 400, false },
        { "short scope name in upper case", Sa + "/token?scopes=Email", Flavor, 400, false },
        { "short scope name Google does not know", Sa + "/token?scopes=email,offline_access", Flavor, 400, false },
        { "plain-http scope", Sa + "/token?scopes=http://www.googleapis.com/auth/cloud-platform", Flavor, 400, false },
        { "too many scopes", Sa + "/token?scopes=" + string.Join(",", Enumerable.Range(0, 21).Select(i => $"https://s.example/{i}")), Flavor, 400, false },
        { "oversized scope", Sa + "/token?scopes=https://s.example/" + new string('s', 300), Flavor, 400, false },
        { "oversized audience", Sa + "/identity?audience=https://a.example/" + new string('a', 1100), Flavor, 400, false },
        { "X-Forwarded-For on root", "/", "X-Forwarded-For: 10.0.0.1\r\n", 403, false },
        { "empty X-Forwarded-For", "/computeMetadata/v1/project/project-id", Flavor + "X-Forwarded-For: \r\n", 403, false },
        { "X-Forwarded-For on token", Sa + "/token", Flavor + "X-Forwarded-For: 127.0.0.1\r\n", 403, false },
        { "duplicate flavor headers", "/computeMetadata/v1/project/project-id", Flavor + Flavor, 403, false },
        { "lower-case flavor value", "/computeMetadata/v1/project/project-id", "Metadata-Flavor: google\r\n", 403, false },
        { "legacy header with wrong value", "/computeMetadata/v1/project/project-id", "X-Google-Metadata-Request: yes\r\n", 403, false },
        { "no flavor on token", Sa + "/token", "", 403, false },
        { "no flavor on recursive root", "/computeMetadata/v1/?recursive=true", "", 403, false },
        { "flavor in the query instead of a header", "/computeMetadata/v1/project/project-id?Metadata-Flavor=Google", "", 403, false },
        { "other clouds", "/latest/meta-data/iam/security-credentials/", Flavor, 404, false },
        { "very long path", "/computeMetadata/v1/" + new string('a', 20_000), Flavor, 414, true },
        { "very large header", "/computeMetadata/v1/project/project-id", Flavor + "X-Big: " + new string('b', 40_000) + "\r\n", 431, true },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task HostileRequest_IsRefusedWithA4xxAndAReason(string name, string target, string headers, int expected, bool kestrel)
    {
        var (status, head, body) = await RawHttp.SendAsync(fixture.Server.MetadataUri,
            $"GET {target} HTTP/1.1\r\nHost: metadata.google.internal\r\n{headers}Connection: close\r\n\r\n");
        Assert.True(expected == status, $"{name}: expected {expected}, got {status}\n{head}");
        if (!kestrel)
        {
            Assert.False(string.IsNullOrWhiteSpace(body), $"{name}: a refusal must say why");
            Assert.Contains("Metadata-Flavor: Google", head, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("TRACE")]
    [InlineData("PROPFIND")]
    [InlineData("get")]
    [InlineData("DELETE")]
    public async Task UnusualMethods_Are405WithAReason(string method)
    {
        var (status, _, body) = await RawHttp.SendAsync(fixture.Server.MetadataUri,
            $"{method} /computeMetadata/v1/project/project-id HTTP/1.1\r\nHost: x\r\n{Flavor}Connection: close\r\n\r\n");
        Assert.Equal(405, status);
        Assert.Contains("GET and HEAD", body, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("GET * HTTP/1.1\r\nHost: x\r\n")]
    [InlineData("GET /computeMetadata/v1/ HTTP/1.1\r\n")]
    [InlineData("GET /computeMetadata/v1/ HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n")]
    [InlineData("GET /computeMetadata/v1/ HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n")]
    public async Task MalformedHttp_IsRejectedByKestrelWith4xx(string head)
    {
        var (status, _, _) = await RawHttp.SendAsync(fixture.Server.MetadataUri, head + "Connection: close\r\n\r\n");
        Assert.InRange(status, 400, 499);
    }

    [Fact]
    public async Task UnknownHttpVersion_IsRefusedByKestrelWith505()
    {
        // The one protocol-level 5xx: Kestrel's own, correct answer to an HTTP version it does not speak.
        var (status, _, _) = await RawHttp.SendAsync(fixture.Server.MetadataUri, "GET /computeMetadata/v1/ HTTP/9.9\r\nHost: x\r\nConnection: close\r\n\r\n");
        Assert.Equal(505, status);
    }
}
