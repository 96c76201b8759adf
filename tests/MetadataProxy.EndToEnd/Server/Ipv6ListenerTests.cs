using System.Diagnostics;
using MetadataProxy.EndToEnd.Iptables;
using MetadataProxy.EndToEnd.Lab;

namespace MetadataProxy.EndToEnd.Server;

/// <summary>
/// Issue 10, point 6: the server runs with the shipped <c>Listen__Metadata</c> (both families). Where the script does
/// not intercept IPv6 the IPv6 address is not on lo, and the server starts and is ready without that listener; when
/// the interception covers IPv6 and the server does not listen there, IPv6 pods are refused and <c>/readyz</c> says so,
/// naming the family. (With IPv6 intercepted from the start, PodIdentityTests asks over IPv6 and gets its identity.)
/// </summary>
public sealed class Ipv6ListenerTests
{
    private const string Email4 = "http://169.254.169.254/computeMetadata/v1/instance/service-accounts/default/email";
    private static readonly string Email6 = $"http://[{LabNetwork.Metadata6}]/computeMetadata/v1/instance/service-accounts/default/email";
    private static readonly TimeSpan ReadinessPatience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Readyz_IPv6NotIntercepted_ServerStartsWithoutTheIPv6ListenerAndIsReady()
    {
        await using var lab = new ServerLab { Ipv6 = "off" };
        await lab.InitializeAsync();
        lab.SkipUnlessBuilt();

        var readyz = await lab.ReadyzAsync();
        var email = await lab.CurlAsync(lab.Writer.Namespace, Email4);

        Assert.True(readyz == (HttpStatusCode.OK, "ready\n"), $"{readyz}\nserver output:\n{lab.Server.Output}");
        Assert.Equal(new CurlAnswer(0, 200, ServerLab.WriterGsa, ""), email);
        Assert.Contains($"No metadata listener on [{LabNetwork.Proxy6}]:{LabNetwork.ProxyPort}", lab.Server.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Readyz_InterceptionCoversIPv6WithoutAListener_Is503NamingIPv6()
    {
        await using var lab = new ServerLab { Ipv6 = "off" };
        await lab.InitializeAsync();
        lab.SkipUnlessBuilt();

        // The node's interception now covers IPv6 (IPV6 turned on, a new init container ran), the server was not restarted.
        var settings = new Dictionary<string, string>(lab.InterceptionSettings) { ["IPV6"] = "on" };
        (await new InterceptionScript(lab.Lab).InstallAsync(settings)).EnsureSuccess();
        var refused = await lab.CurlAsync(lab.Writer.Namespace, Email6);
        var readyz = await ReadyzOnceNotReadyAsync(lab);

        Assert.True(refused.ExitCode == 7, $"curl should fail to connect (7): {refused}");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, readyz.Status);
        Assert.Contains(
            $"IPv6: {LabNetwork.Proxy6} is on this node now (the interception covers IPv6), but it was not at start, so the server does not listen on [{LabNetwork.Proxy6}]:{LabNetwork.ProxyPort}",
            readyz.Body,
            StringComparison.Ordinal);
    }

    // Readiness is checked every 10 s while ready: ask until it has looked again.
    private static async Task<(HttpStatusCode Status, string Body)> ReadyzOnceNotReadyAsync(ServerLab lab)
    {
        var clock = Stopwatch.StartNew();
        var readyz = await lab.ReadyzAsync();
        while (readyz.Status == HttpStatusCode.OK && clock.Elapsed < ReadinessPatience)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(200), TestContext.Current.CancellationToken);
            readyz = await lab.ReadyzAsync();
        }

        return readyz;
    }
}
