using MetadataProxy.FunctionalTests.Infrastructure;

namespace MetadataProxy.FunctionalTests.Passthrough;

/// <summary>
/// Issue 12: no spelling of a path reaches a concealed key upstream. Each row is sent as raw bytes; the assertion is
/// on what the VM's metadata server received, not only on what the caller saw.
/// </summary>
public sealed class PassthroughHostileInputTests(PassthroughLab lab) : IClassFixture<PassthroughLab>
{
    private static readonly string[] ConcealedWords = ["kube-env", "kubelet", "ssh-keys", "sshkeys", "startup-script", "user-data", "service-accounts", "guest-attributes", "token"];

    public static TheoryData<string> Targets() =>
    [
        "/computeMetadata/v1/instance/attributes/kube-env",
        "/computeMetadata/v1/instance/attributes/KUBE-ENV",
        "/computeMetadata/v1/instance/attributes/Kube-Env",
        "/computeMetadata/v1/instance/attributes/kube-env.",
        "/computeMetadata/v1/instance/attributes/kube-env..",
        "/computeMetadata/v1/instance/attributes/kube-env%2e",
        "/computeMetadata/v1/instance/attributes/%6bube-env",
        "/computeMetadata/v1/instance/attributes/kube%2denv",
        "/computeMetadata/v1/instance/attributes/kube-env%2f",
        "/computeMetadata/v1/instance/attributes%2fkube-env",
        "/computeMetadata/v1/instance/attributes%2Fkube-env",
        "/computeMetadata/v1/instance%2fattributes%2fkube-env",
        "/computeMetadata/v1/instance/attributes/user-setting/../kube-env",
        "/computeMetadata/v1/instance/attributes/user-setting/%2e%2e/kube-env",
        "/computeMetadata/v1/instance/attributes/user-setting%2f..%2fkube-env",
        "/computeMetadata/v1/instance/network-interfaces/../attributes/kube-env",
        "/computeMetadata/v1/instance/network-interfaces/%2e%2e/service-accounts/default/token",
        "/computeMetadata/v1/instance//attributes//kube-env",
        "/computeMetadata/v1/instance/./attributes/./kube-env",
        "/computeMetadata/v1/instance/attributes\\kube-env",
        "/computeMetadata/v1/instance/attributes/user-setting\\..\\kube-env",
        "/computeMetadata/v1/instance/attributes/kube-env;x=1",
        "/computeMetadata/v1/instance/attributes/user-setting;/../kube-env",
        "/computeMetadata/v1/instance/attributes/kube-env%00",
        "/computeMetadata/v1/instance/attributes/kube-env%20",
        "/computeMetadata/v1/instance/attributes/kubelet-cert",
        "/computeMetadata/v1/instance/attributes/KUBELET-CERT",
        "/computeMetadata/v1/instance/attributes/startup-script-url",
        "/computeMetadata/v1/instance/attributes/ssh-keys?alt=json",
        "/computeMetadata/v1/instance/attributes/?recursive=true",
        "/computeMetadata/v1/instance/attributes/user-setting?recursive=true&x=/../kube-env",
        "/computeMetadata/v1/instance/attributes/user-setting?path=../kube-env",
        "/computeMetadata/v1/instance/attributes/user-setting#/../kube-env",
        "/computeMetadata/v1/instance/?recursive=true",
        "/computeMetadata/v1/?recursive=true",
        "/computeMetadata/v1/project/attributes/?recursive=true",
        "/computeMetadata/v1/instance/service-accounts/default/token",
        "/computeMetadata/v1/instance/service-accounts/vm-sa@vm-project.iam.gserviceaccount.com/token",
        "/computeMetadata/v1/instance/Service-Accounts/default/token",
        "/computeMetadata/v1/instance/guest-attributes/hostkeys/ssh-rsa",
        "/computeMetadata/v1beta1/instance/attributes/kube-env",
        "/computeMetadata/v1/instance/network-interfaces/0/../../attributes/kube-env",
        "http://169.254.169.254/computeMetadata/v1/instance/attributes/kube-env",
    ];

    [Theory]
    [MemberData(nameof(Targets))]
    public async Task Get_HostileSpelling_NeverReachesAConcealedKeyUpstreamNorLeaksIt(string target)
    {
        var (status, _, body) = await RawHttp.SendAsync(lab.Server.MetadataUri,
            $"GET {target} HTTP/1.1\r\nHost: metadata.google.internal\r\nMetadata-Flavor: Google\r\nConnection: close\r\n\r\n");

        // Never a 500; the one 503 is the caller's own token (this server's, no Google configured here), never the VM's.
        Assert.True(status is >= 200 and < 500 or 503, $"status {status}");
        Assert.DoesNotContain(PassthroughLab.Secret, body, StringComparison.Ordinal);
        var reached = lab.Upstream.Received.Select(r => Uri.UnescapeDataString(r.RawTarget.Split('?')[0])).ToList();
        Assert.DoesNotContain(reached, path => ConcealedWords.Any(word => path.Contains(word, StringComparison.OrdinalIgnoreCase)));
    }

    [Theory]
    [InlineData("POST")]
    [InlineData("PUT")]
    [InlineData("DELETE")]
    [InlineData("get")]
    public async Task Request_WithAMethodOtherThanGetOrHead_IsRefusedAndNeverForwarded(string method)
    {
        var before = lab.ReceivedFor("instance/attributes/user-setting").Count();
        var (status, _, _) = await RawHttp.SendAsync(lab.Server.MetadataUri,
            $"{method} /computeMetadata/v1/instance/attributes/user-setting HTTP/1.1\r\nHost: x\r\nMetadata-Flavor: Google\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");

        Assert.Equal(405, status);
        Assert.Equal(before, lab.ReceivedFor("instance/attributes/user-setting").Count());
    }

    [Fact]
    public async Task Get_WithoutMetadataFlavor_IsRefusedHereAndNeverForwarded()
    {
        using var client = lab.Client();
        var before = lab.ReceivedFor("instance/image").Count();
        var (response, _) = await client.GetWithBodyAsync("/computeMetadata/v1/instance/image", flavor: false);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal(before, lab.ReceivedFor("instance/image").Count());
    }

    [Fact]
    public async Task Get_WithUnknownQueryParameters_ForwardsOnlyTheKnownOnes()
    {
        using var client = lab.Client();
        var (response, body) = await client.GetWithBodyAsync("/computeMetadata/v1/instance/image?alt=json&x=1&recursive=false&callback=evil");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("\"projects/debian-cloud/global/images/debian-12\"", body);
        Assert.Contains(lab.Upstream.Received, r => r.RawTarget == "/computeMetadata/v1/instance/image?recursive=false&alt=json");
    }
}
