using System.Text.RegularExpressions;
using MetadataProxy.EndToEnd.Lab;

namespace MetadataProxy.EndToEnd.Image;

/// <summary>
/// There is no container engine in the test run, so these read the Dockerfile for the promises the manifests rely on:
/// the init target's command, the server's non-root user and its file capability, the credential provider's publish.
/// </summary>
public sealed partial class DockerfileTests
{
    private static readonly Lazy<string> Dockerfile = new(() => File.ReadAllText(Path.Combine(RepositoryFiles.Root, "Dockerfile")));

    [Fact]
    public void InitTarget_Always_HasTheToolsAndTheScriptWhereTheManifestsCallIt()
    {
        var init = Stage("init");

        Assert.Matches(@"apt-get install -y --no-install-recommends iptables iproute2 conntrack socat\b", init);
        Assert.Contains("COPY --chmod=0755 iptables/metadata-proxy-iptables.sh /usr/local/bin/metadata-proxy-iptables", init, StringComparison.Ordinal);
    }

    [Fact]
    public void ServerTarget_Always_IsTheDefaultChiseledNonRootImage()
    {
        var server = Stage("server");

        Assert.EndsWith(server, Dockerfile.Value, StringComparison.Ordinal);
        // Runtime dependencies only: the server is published self-contained (the build stage), so it brings its runtime.
        Assert.Contains("FROM mcr.microsoft.com/dotnet/runtime-deps:${DOTNET_VERSION}-noble-chiseled AS server", server, StringComparison.Ordinal);
        // $APP_UID is 1654 in every .NET 8+ image; the DaemonSet's runAsUser says the same.
        Assert.Contains("USER $APP_UID", server, StringComparison.Ordinal);
        Assert.Contains("ENTRYPOINT [\"/app/MetadataProxy\"]", server, StringComparison.Ordinal);
    }

    [Fact]
    public void BuildStage_Always_PublishesSelfContainedAndTrimmedPerTargetArchitectureWithoutAFileCapability()
    {
        var build = Stage("build");

        Assert.StartsWith("FROM --platform=$BUILDPLATFORM mcr.microsoft.com/dotnet/sdk:", build, StringComparison.Ordinal);
        // Restored as it is published: trimming brings the ILLink package, self-contained the runtime pack.
        Assert.Contains("dotnet restore src/MetadataProxy --os linux -a \"$TARGETARCH\" -p:SelfContained=true -p:PublishTrimmed=true", build, StringComparison.Ordinal);
        Assert.Contains("dotnet publish src/MetadataProxy -c Release --os linux -a \"$TARGETARCH\" --self-contained true -p:PublishTrimmed=true --no-restore", build, StringComparison.Ordinal);
        // Unprivileged ports: no file capability, so the DaemonSet can set allowPrivilegeEscalation: false.
        Assert.DoesNotContain("setcap", build, StringComparison.Ordinal);
        Assert.DoesNotContain("libcap2-bin", build, StringComparison.Ordinal);
    }

    [Fact]
    public void PluginStage_Always_PublishesTheCredentialProviderNativeAotAndStaticOnTheTargetPlatform()
    {
        var plugin = Stage("plugin");

        // NativeAOT links with the target's own toolchain: the stage runs on the target platform, not the builder's.
        Assert.StartsWith("FROM --platform=$TARGETPLATFORM mcr.microsoft.com/dotnet/sdk:${DOTNET_VERSION}-alpine AS plugin", plugin, StringComparison.Ordinal);
        Assert.Matches(@"apk add --no-cache clang build-base zlib-dev zlib-static\b", plugin);
        Assert.Contains("COPY src/MetadataProxy.CredentialProvider/MetadataProxy.CredentialProvider.csproj src/MetadataProxy.CredentialProvider/", plugin, StringComparison.Ordinal);
        Assert.Matches(@"amd64\) echo linux-musl-x64 ;;", plugin);
        Assert.Matches(@"arm64\) echo linux-musl-arm64 ;;", plugin);
        Assert.Contains("dotnet restore src/MetadataProxy.CredentialProvider -r \"$(cat /tmp/rid)\"", plugin, StringComparison.Ordinal);
        Assert.Contains("dotnet publish src/MetadataProxy.CredentialProvider -c Release -r \"$(cat /tmp/rid)\" --no-restore", plugin, StringComparison.Ordinal);
        // One file that runs on any host libc: the kubelet executes it on the node, not in the image.
        Assert.Contains("-p:PublishAot=true -p:StaticExecutable=true -o /plugin", plugin, StringComparison.Ordinal);
        Assert.Contains("test -x /plugin/metadata-proxy-credential-provider", plugin, StringComparison.Ordinal);
    }

    [Fact]
    public void ServerTarget_Always_CarriesThePluginWhereTheDaemonSetRunsIt()
    {
        var server = Stage("server");

        // manifests/daemonset.yaml, init container install-credential-provider.
        Assert.Contains("COPY --from=plugin /plugin/metadata-proxy-credential-provider /app/metadata-proxy-credential-provider", server, StringComparison.Ordinal);
        Assert.Contains(
            "command: [/app/metadata-proxy-credential-provider, install, /host/credential-provider-bin]",
            File.ReadAllText(Path.Combine(RepositoryFiles.Manifests, "daemonset.yaml")),
            StringComparison.Ordinal);
    }

    // From the stage's FROM line to the next FROM (or the end).
    private static string Stage(string name)
    {
        var match = StageStart().Matches(Dockerfile.Value).Single(m => m.Groups["name"].Value == name);
        var next = Dockerfile.Value.IndexOf("\nFROM ", match.Index + 1, StringComparison.Ordinal);
        return next < 0 ? Dockerfile.Value[match.Index..] : Dockerfile.Value[match.Index..(next + 1)];
    }

    [GeneratedRegex(@"^FROM .* AS (?<name>\w+)$", RegexOptions.Multiline)]
    private static partial Regex StageStart();
}
