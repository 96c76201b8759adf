using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using MetadataProxy.CredentialProvider.Tests.Infrastructure;

namespace MetadataProxy.CredentialProvider.Tests.Exec;

/// <summary>The kubelet's view: exec the real binary with a CredentialProviderRequest on stdin against the stand-in node socket.</summary>
public sealed class GetCredentialsTests : IAsyncLifetime
{
    private readonly TempDirectory _directory = new();
    private StandInServer _server = null!;

    public async ValueTask InitializeAsync() => _server = await StandInServer.StartAsync(_directory);

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        _directory.Dispose();
    }

    [Fact]
    public async Task GetCredentials_NoServiceAccountToken_AnswersWithTheNodeToken()
    {
        var run = await RunAsync(Requests.Node());

        Assert.Equal(0, run.ExitCode);
        Assert.Equal("", run.StandardError);
        StrictResponse.Parse(run.StandardOutput, Requests.V1, "54m59s", StandInServer.NodeToken, StrictResponse.KeysFor("us-docker.pkg.dev"));
        var request = Assert.Single(_server.Requests);
        Assert.Equal(("GET", "/registry/v1/node-token", "Google"), (request.Method, request.Path, request.MetadataFlavor));
    }

    [Fact]
    public async Task GetCredentials_ServiceAccountTokenWithGsa_PassesTokenAnnotationsAndImageThrough()
    {
        var run = await RunAsync(Requests.Pod("app@p.iam.gserviceaccount.com", image: "gcr.io/p/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"));

        Assert.Equal(0, run.ExitCode);
        StrictResponse.Parse(run.StandardOutput, Requests.V1, "54m59s", StandInServer.PodTokenPrefix + "app@p.iam.gserviceaccount.com", StrictResponse.KeysFor("gcr.io"));
        Assert.DoesNotContain(Requests.KsaToken, run.StandardOutput + run.StandardError, StringComparison.Ordinal);

        var request = Assert.Single(_server.Requests);
        Assert.Equal(("POST", "/registry/v1/pod-token", "Google", "application/json"), (request.Method, request.Path, request.MetadataFlavor, request.ContentType));
        var body = JsonDocument.Parse(request.Body).RootElement;
        Assert.Equal(["serviceAccountToken", "serviceAccountAnnotations", "image"], body.EnumerateObject().Select(p => p.Name));
        Assert.Equal(Requests.KsaToken, body.GetProperty("serviceAccountToken").GetString());
        Assert.Equal("app@p.iam.gserviceaccount.com", body.GetProperty("serviceAccountAnnotations").GetProperty("iam.gke.io/gcp-service-account").GetString());
        Assert.Equal("gcr.io/p/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", body.GetProperty("image").GetString());
    }

    [Fact]
    public async Task GetCredentials_ServiceAccountTokenWithoutAnnotations_SendsNoAnnotations()
    {
        var run = await RunAsync(Requests.Pod(gsa: null));

        Assert.Equal(0, run.ExitCode);
        StrictResponse.Parse(run.StandardOutput, Requests.V1, "54m59s", StandInServer.PodTokenPrefix + "principal", StrictResponse.KeysFor("us-docker.pkg.dev"));
        var body = JsonDocument.Parse(Assert.Single(_server.Requests).Body).RootElement;
        Assert.Equal(["serviceAccountToken", "image"], body.EnumerateObject().Select(p => p.Name));
    }

    [Theory]
    [InlineData("credentialprovider.kubelet.k8s.io/v1beta1")]
    [InlineData("credentialprovider.kubelet.k8s.io/v1alpha1")]
    public async Task GetCredentials_OlderApiVersion_IsEchoed(string apiVersion)
    {
        var run = await RunAsync(Requests.Node(apiVersion: apiVersion));

        Assert.Equal(0, run.ExitCode);
        StrictResponse.Parse(run.StandardOutput, apiVersion, "54m59s", StandInServer.NodeToken, StrictResponse.KeysFor("us-docker.pkg.dev"));
    }

    [Fact]
    public async Task GetCredentials_ImageWithPortAndExtraRegistries_KeysTheHostWithPortAndEveryPattern()
    {
        var run = await RunAsync(
            Requests.Node(image: "eu.example.org:5000/team/app:1"),
            ["--registry", "mirror.example.com", "--registry=*.example.org"],
            new Dictionary<string, string> { ["METADATA_PROXY_REGISTRIES"] = "cache.example.net:8443,mirror.example.com" });

        Assert.Equal(0, run.ExitCode);
        StrictResponse.Parse(
            run.StandardOutput,
            Requests.V1,
            "54m59s",
            StandInServer.NodeToken,
            [.. StrictResponse.KeysFor("eu.example.org:5000"), "mirror.example.com", "*.example.org", "cache.example.net:8443"]);
    }

    [Theory]
    [InlineData("ghcr.io/org/app:1", "ghcr.io")]
    [InlineData("localhost:5000/team/app:1", "localhost:5000")]
    [InlineData("nginx:1.27", "docker.io")]
    [InlineData("us-docker.pkg.dev.evil.example/p/r/i:1", "us-docker.pkg.dev.evil.example")]
    [InlineData("registry.example.com/other/app:1", "registry.example.com")] // covered host, path outside the pattern's
    public async Task GetCredentials_ImageOnARegistryNoPatternCovers_ExitsOneAndAsksForNoToken(string image, string host)
    {
        // As a kubelet whose matchImages is broader than the patterns ("*") sends it; with a pod's KSA token too.
        foreach (var request in new[] { Requests.Node(image: image), Requests.Pod("app@p.iam.gserviceaccount.com", image: image) })
        {
            var run = await RunAsync(request, ["--registry", "registry.example.com/team"]);

            Assert.Equal(1, run.ExitCode);
            Assert.Equal("", run.StandardOutput);
            Assert.Equal(
                $"metadata-proxy-credential-provider: image {image} is on registry {host}, which none of the registry patterns covers " +
                "(*.pkg.dev, gcr.io, *.gcr.io, container.cloud.google.com, registry.example.com/team); no Google token is sent to it. " +
                "Add it with --registry or METADATA_PROXY_REGISTRIES if it should get one, and keep the kubelet's matchImages to these registries",
                run.SingleErrorLine());
            Assert.DoesNotContain(Requests.KsaToken, run.StandardError, StringComparison.Ordinal);
        }

        Assert.Empty(_server.Requests);
    }

    [Fact]
    public async Task GetCredentials_ImageUnderAPatternsPath_IsAnswered()
    {
        var run = await RunAsync(Requests.Node(image: "registry.example.com/team/app:1"), ["--registry", "registry.example.com/team"]);

        Assert.Equal(0, run.ExitCode);
        StrictResponse.Parse(
            run.StandardOutput, Requests.V1, "54m59s", StandInServer.NodeToken, [.. StrictResponse.KeysFor("registry.example.com"), "registry.example.com/team"]);
    }

    [Theory]
    [InlineData(3600, "55m0s")]
    [InlineData(301, "1s")]
    [InlineData(120, "0s")]
    public async Task GetCredentials_TokenLifetime_SetsCacheDurationFiveMinutesShort(long expiresIn, string expected)
    {
        _server.Behaviour.ExpiresIn = expiresIn;

        var run = await RunAsync(Requests.Node());

        Assert.Equal(0, run.ExitCode);
        StrictResponse.Parse(run.StandardOutput, Requests.V1, expected, StandInServer.NodeToken, StrictResponse.KeysFor("us-docker.pkg.dev"));
    }

    [Fact]
    public async Task GetCredentials_SocketFromEnvironment_IsUsed()
    {
        var run = await PluginProcess.RunAsync(
            PluginBinary.AppHost,
            ["get-credentials"],
            Requests.Node(),
            new Dictionary<string, string> { ["METADATA_PROXY_SOCKET"] = _server.SocketPath });

        Assert.Equal(0, run.ExitCode);
        StrictResponse.Parse(run.StandardOutput, Requests.V1, "54m59s", StandInServer.NodeToken, StrictResponse.KeysFor("us-docker.pkg.dev"));
    }

    [Fact]
    public async Task GetCredentials_ServerRefuses_ExitsOneWithItsReasonAndStatus()
    {
        _server.Behaviour.Status = 403;
        _server.Behaviour.Reason = "Permission 'iam.serviceAccounts.getAccessToken' denied on resource (or it may not exist).";

        var run = await RunAsync(Requests.Pod("app@p.iam.gserviceaccount.com"));

        Assert.Equal(1, run.ExitCode);
        Assert.Equal("", run.StandardOutput);
        Assert.Equal(
            $"metadata-proxy-credential-provider: the node socket {_server.SocketPath} refused (403 Forbidden): Permission 'iam.serviceAccounts.getAccessToken' denied on resource (or it may not exist).",
            run.SingleErrorLine());
    }

    [Fact]
    public async Task GetCredentials_ServerEchoesTheKsaToken_TokenIsRedactedFromStderr()
    {
        _server.Behaviour.Status = 400;
        _server.Behaviour.Reason = "malformed token";
        _server.Behaviour.EchoTokenInReason = true;

        var run = await RunAsync(Requests.Pod(gsa: null));

        Assert.Equal(1, run.ExitCode);
        var line = run.SingleErrorLine();
        Assert.EndsWith("(400 Bad Request): malformed token token=[redacted]", line, StringComparison.Ordinal);
        Assert.DoesNotContain(Requests.KsaToken, run.StandardError + run.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetCredentials_ServerUnavailable_ExitsOneWithStatus()
    {
        _server.Behaviour.Status = 503;
        _server.Behaviour.Reason = "the node identity's token is not ready yet";

        var run = await RunAsync(Requests.Node());

        Assert.Equal(1, run.ExitCode);
        Assert.EndsWith("refused (503 Service Unavailable): the node identity's token is not ready yet", run.SingleErrorLine(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetCredentials_AnswerWithoutMetadataFlavor_IsNotTrusted()
    {
        _server.Behaviour.OmitMetadataFlavor = true;

        var run = await RunAsync(Requests.Node());

        Assert.Equal(1, run.ExitCode);
        Assert.Equal("", run.StandardOutput);
        Assert.Contains("answered 200 OK without Metadata-Flavor: Google, so it is no metadata server", run.SingleErrorLine(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("{\"access_token\":\"\",\"expires_in\":3600}")]
    [InlineData("{\"access_token\":\"t\"}")]
    [InlineData("{\"access_token\":\"t\",\"expires_in\":-1}")]
    public async Task GetCredentials_ServerAnswersNoToken_ExitsOne(string body)
    {
        _server.Behaviour.RawTokenBody = body;

        var run = await RunAsync(Requests.Node());

        Assert.Equal(1, run.ExitCode);
        Assert.Equal("", run.StandardOutput);
        Assert.Contains("answered 200 without a token", run.SingleErrorLine(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetCredentials_NoSocketFile_ExitsOneAtOnce()
    {
        var missing = _directory.File("absent.sock");

        var run = await PluginProcess.RunAsync(PluginBinary.AppHost, ["get-credentials", "--socket", missing], Requests.Node());

        Assert.Equal(1, run.ExitCode);
        Assert.Equal(
            $"metadata-proxy-credential-provider: no MetadataProxy node socket at {missing} (is the server running on this node with Listen:NodeSocket?)",
            run.SingleErrorLine());
        Assert.True(run.Elapsed < TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task GetCredentials_SocketNotListening_ExitsOneAtOnce()
    {
        // A socket file nobody listens on, as a crashed server leaves behind. Bound and kept open, not listening:
        // disposing it would make .NET remove the file.
        var stale = _directory.File("stale.sock");
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(stale));

        var run = await PluginProcess.RunAsync(PluginBinary.AppHost, ["get-credentials", "--socket", stale], Requests.Node());

        Assert.Equal(1, run.ExitCode);
        Assert.Contains($"cannot reach the node socket {stale}: Connection refused", run.SingleErrorLine(), StringComparison.Ordinal);
        Assert.True(run.Elapsed < TimeSpan.FromSeconds(10));
    }

    [Theory]
    [InlineData("", "standard input is empty")]
    [InlineData("image: gcr.io/p/i", "standard input is not valid JSON (line 1, byte 1)")]
    [InlineData("[]", "expected a JSON object")]
    [InlineData("{\"apiVersion\":\"credentialprovider.kubelet.k8s.io/v2\",\"kind\":\"CredentialProviderRequest\",\"image\":\"gcr.io/p/i\"}", "apiVersion credentialprovider.kubelet.k8s.io/v2 is not supported; this plugin speaks credentialprovider.kubelet.k8s.io/v1")]
    [InlineData("{\"apiVersion\":\"credentialprovider.kubelet.k8s.io/v1\",\"kind\":\"ExecCredential\",\"image\":\"gcr.io/p/i\"}", "kind is 'ExecCredential'")]
    [InlineData("{\"apiVersion\":\"credentialprovider.kubelet.k8s.io/v1\",\"kind\":\"CredentialProviderRequest\",\"image\":\"\"}", "the request has no image")]
    [InlineData("{\"apiVersion\":\"credentialprovider.kubelet.k8s.io/v1\",\"kind\":\"CredentialProviderRequest\",\"image\":\"gcr.io/p/i\",\"serviceAccountToken\":7}", "$.serviceAccountToken has the wrong JSON type")]
    public async Task GetCredentials_MalformedStdin_ExitsTwoWithAClearLine(string stdin, string expected)
    {
        var run = await RunAsync(stdin);

        Assert.Equal(2, run.ExitCode);
        Assert.Equal("", run.StandardOutput);
        Assert.Contains(expected, run.SingleErrorLine(), StringComparison.Ordinal);
        Assert.Empty(_server.Requests);
    }

    [Fact]
    public async Task GetCredentials_HugeStdin_ExitsTwo()
    {
        var huge = Encoding.UTF8.GetBytes("{\"image\":\"" + new string('a', 2 * 1024 * 1024) + "\"}");

        var run = await PluginProcess.RunAsync(PluginBinary.AppHost, ["get-credentials", "--socket", _server.SocketPath], huge);

        Assert.Equal(2, run.ExitCode);
        Assert.Equal("metadata-proxy-credential-provider: standard input is larger than 1 MiB", run.SingleErrorLine());
        Assert.Empty(_server.Requests);
    }

    [Theory]
    [InlineData(new[] { "get-credentials", "--registry", "https://gcr.io" }, "has a scheme")]
    [InlineData(new[] { "get-credentials", "--verbose" }, "unknown argument '--verbose'")]
    [InlineData(new[] { "fetch" }, "unknown command 'fetch'")]
    [InlineData(new string[0], "no command given")]
    public async Task Run_BadArguments_ExitsTwo(string[] args, string expected)
    {
        var run = await PluginProcess.RunAsync(PluginBinary.AppHost, args, Requests.Node());

        Assert.Equal(2, run.ExitCode);
        Assert.Contains(expected, run.SingleErrorLine(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_Help_PrintsUsageAndExitsZero()
    {
        var run = await PluginProcess.RunAsync(PluginBinary.AppHost, ["--help"], "");

        Assert.Equal(0, run.ExitCode);
        Assert.StartsWith("usage: metadata-proxy-credential-provider get-credentials [--socket PATH] [--registry PATTERN]...", run.StandardOutput, StringComparison.Ordinal);
    }

    private Task<PluginRun> RunAsync(string stdin, IEnumerable<string>? extraArgs = null, IReadOnlyDictionary<string, string>? environment = null) =>
        PluginProcess.RunAsync(PluginBinary.AppHost, ["get-credentials", "--socket", _server.SocketPath, .. extraArgs ?? []], stdin, environment);
}
