using System.Text.Json;
using static MetadataProxy.EndToEnd.Manifests.RenderedManifests;

namespace MetadataProxy.EndToEnd.Manifests;

/// <summary><c>kubectl apply -k manifests/</c>: what a cluster gets, checked object by object.</summary>
public sealed class BaseManifestTests
{
    [Fact]
    public async Task Kustomize_Base_RendersExactlyTheServerObjectsInItsNamespace()
    {
        await SkipUnlessKubectlAsync();
        var rendered = await KustomizeAsync();

        Assert.Equal(
            [
                "ClusterRole/metadata-proxy", "ClusterRoleBinding/metadata-proxy", "ConfigMap/metadata-proxy-config",
                "ConfigMap/metadata-proxy-interception", "DaemonSet/metadata-proxy", "Namespace/metadata-proxy",
                "ResourceQuota/metadata-proxy-critical-pods", "ServiceAccount/metadata-proxy",
            ],
            rendered.Objects.Select(o => $"{Kind(o)}/{WithoutHashSuffix(o)}").Order(StringComparer.Ordinal));
        Assert.All(
            rendered.Objects.Where(o => Kind(o) is not ("Namespace" or "ClusterRole" or "ClusterRoleBinding")),
            o => Assert.Equal("metadata-proxy", Namespace(o)));
        var ns = rendered.Single("Namespace");
        Assert.Equal("privileged", At(ns, "metadata", "labels", "pod-security.kubernetes.io/enforce").GetString());
    }

    [Fact]
    public async Task Kustomize_ClusterRole_GrantsOnlyWhatTheServerUses()
    {
        await SkipUnlessKubectlAsync();
        var rendered = await KustomizeAsync();

        var grants = At(rendered.Single("ClusterRole"), "rules").EnumerateArray()
            .SelectMany(rule =>
                from g in Strings(rule.GetProperty("apiGroups"))
                from r in Strings(rule.GetProperty("resources"))
                from v in Strings(rule.GetProperty("verbs"))
                select $"{(g.Length == 0 ? "core" : g)}:{r}:{v}")
            .Order(StringComparer.Ordinal);

        Assert.Equal(
            [
                "authentication.k8s.io:tokenreviews:create",
                "core:events:create", "core:nodes:get", "core:nodes:patch", "core:pods:list", "core:pods:watch",
                "core:serviceaccounts/token:create", "core:serviceaccounts:get",
            ],
            grants);
        // Nothing broader than the list says: no wildcards, no name or URL rules, no aggregation.
        Assert.All(At(rendered.Single("ClusterRole"), "rules").EnumerateArray(), rule =>
        {
            Assert.Equal(["apiGroups", "resources", "verbs"], rule.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
            Assert.DoesNotContain(rule.EnumerateObject().SelectMany(p => Strings(p.Value)), v => v.Contains('*', StringComparison.Ordinal));
        });
        Assert.False(rendered.Single("ClusterRole").TryGetProperty("aggregationRule", out _));
        var binding = rendered.Single("ClusterRoleBinding");
        Assert.Equal("metadata-proxy", At(binding, "roleRef", "name").GetString());
        var subject = Assert.Single(At(binding, "subjects").EnumerateArray());
        Assert.Equal(("ServiceAccount", "metadata-proxy", "metadata-proxy"), (At(subject, "kind").GetString(), At(subject, "name").GetString(), At(subject, "namespace").GetString()));
    }

    [Fact]
    public async Task Kustomize_DaemonSet_RunsOnEveryNodeInTheHostNetworkBeforeOtherPods()
    {
        await SkipUnlessKubectlAsync();
        var daemonSet = (await KustomizeAsync()).Single("DaemonSet");
        var pod = At(daemonSet, "spec", "template", "spec");

        Assert.True(At(pod, "hostNetwork").GetBoolean());
        // The node's resolver: no token depends on CoreDNS.
        Assert.Equal("Default", At(pod, "dnsPolicy").GetString());
        Assert.Equal("system-node-critical", At(pod, "priorityClassName").GetString());
        Assert.Equal("metadata-proxy", At(pod, "serviceAccountName").GetString());
        // Every taint, NoExecute included: a node without its metadata server must not run pods that need it.
        var toleration = Assert.Single(At(pod, "tolerations").EnumerateArray());
        Assert.Equal(["operator"], toleration.EnumerateObject().Select(p => p.Name));
        Assert.Equal("Exists", At(toleration, "operator").GetString());
        Assert.Equal("RollingUpdate", At(daemonSet, "spec", "updateStrategy", "type").GetString());
        // Zero-gap upgrades: a new pod beside the old one on each node, the old one deleted once the new one is ready.
        Assert.Equal(1, At(daemonSet, "spec", "updateStrategy", "rollingUpdate", "maxSurge").GetInt32());
        Assert.Equal(0, At(daemonSet, "spec", "updateStrategy", "rollingUpdate", "maxUnavailable").GetInt32());
        // A hostNetwork pod's containerPort is also a hostPort, which would keep the surge pod off its node.
        Assert.All(At(pod, "containers").EnumerateArray(), c => Assert.False(c.TryGetProperty("ports", out _), $"{At(c, "name")} declares ports"));
    }

    [Fact]
    public async Task Kustomize_ResourceQuota_AdmitsTheDaemonSetsPriorityClassInItsNamespace()
    {
        await SkipUnlessKubectlAsync();
        var rendered = await KustomizeAsync();
        var daemonSet = rendered.Single("DaemonSet");
        var quota = rendered.Single("ResourceQuota");

        Assert.Equal(Namespace(daemonSet), Namespace(quota));
        var scope = Assert.Single(At(quota, "spec", "scopeSelector", "matchExpressions").EnumerateArray());
        Assert.Equal(("PriorityClass", "In"), (At(scope, "scopeName").GetString(), At(scope, "operator").GetString()));
        Assert.Equal([At(daemonSet, "spec", "template", "spec", "priorityClassName").GetString()!], Strings(At(scope, "values")));
        // Room for one pod per node of the largest supported cluster (5,000 nodes), twice over during a rollout.
        Assert.True(int.Parse(At(quota, "spec", "hard", "pods").GetString()!, System.Globalization.CultureInfo.InvariantCulture) >= 10_000);
    }

    [Fact]
    public async Task Kustomize_OptIn_RunsOnlyOnLabelledLinuxNodesWhileTheBaseRunsOnAll()
    {
        await SkipUnlessKubectlAsync();
        var all = At((await KustomizeAsync()).Single("DaemonSet"), "spec", "template", "spec", "nodeSelector");
        var optIn = At((await KustomizeWithComponentsAsync("opt-in")).Single("DaemonSet"), "spec", "template", "spec", "nodeSelector");

        Assert.Equal(["kubernetes.io/os"], all.EnumerateObject().Select(p => p.Name));
        Assert.Equal(
            [("kubernetes.io/os", "linux"), ("metadataproxy.io/enabled", "true")],
            optIn.EnumerateObject().Select(p => (p.Name, p.Value.GetString()!)).Order());
    }

    [Fact]
    public async Task Kustomize_InitContainer_InstallsTheInterceptionWithNetworkCapabilitiesOnly()
    {
        await SkipUnlessKubectlAsync();
        var rendered = await KustomizeAsync();
        var pod = At(rendered.Single("DaemonSet"), "spec", "template", "spec");

        // Interception first: pods scheduled meanwhile must never reach the cloud's own metadata server.
        Assert.Equal(
            ["install-interception", "probe-datapath", "prepare-node-socket", "install-credential-provider"],
            At(pod, "initContainers").EnumerateArray().Select(c => At(c, "name").GetString()));
        var init = InitContainer(pod, "install-interception");
        Assert.Equal("ghcr.io/metadata-proxy/metadata-proxy:dev-init", At(init, "image").GetString());
        Assert.Equal(["metadata-proxy-iptables", "install"], Strings(At(init, "command")));
        Assert.Equal(["ALL"], Strings(At(init, "securityContext", "capabilities", "drop")));
        Assert.Equal(["NET_ADMIN", "NET_RAW"], Strings(At(init, "securityContext", "capabilities", "add")));
        Assert.False(At(init, "securityContext").TryGetProperty("privileged", out var privileged) && privileged.GetBoolean());
        Assert.False(At(init, "securityContext", "allowPrivilegeEscalation").GetBoolean());
        Assert.Equal(Name(rendered.Single("ConfigMap", "metadata-proxy-interception-")), At(init, "envFrom", 0, "configMapRef", "name").GetString());
        Assert.Contains("/run/xtables.lock", At(init, "volumeMounts").EnumerateArray().Select(m => At(m, "mountPath").GetString()));
    }

    [Fact]
    public async Task Kustomize_ServerContainer_IsNonRootWithoutCapabilitiesAndProbesItsOwnAdminSocket()
    {
        await SkipUnlessKubectlAsync();
        var rendered = await KustomizeAsync();
        var server = Assert.Single(At(rendered.Single("DaemonSet"), "spec", "template", "spec", "containers").EnumerateArray());

        Assert.Equal("ghcr.io/metadata-proxy/metadata-proxy:dev", At(server, "image").GetString());
        var security = At(server, "securityContext");
        Assert.True(At(security, "runAsNonRoot").GetBoolean());
        Assert.NotEqual(0, At(security, "runAsUser").GetInt32());
        Assert.True(At(security, "readOnlyRootFilesystem").GetBoolean());
        Assert.Equal(["ALL"], Strings(At(security, "capabilities", "drop")));
        Assert.False(At(security, "capabilities").TryGetProperty("add", out _), "the server needs no capability: its ports are unprivileged");
        Assert.False(At(security, "allowPrivilegeEscalation").GetBoolean());
        var nodeName = Assert.Single(At(server, "env").EnumerateArray(), e => At(e, "name").GetString() == "NODE_NAME");
        Assert.Equal("spec.nodeName", At(nodeName, "valueFrom", "fieldRef", "fieldPath").GetString());
        // Exec probes on the pod's own admin socket: the admin TCP port is shared with the other pod during an upgrade.
        Assert.Equal(["/app/MetadataProxy", "probe", "/readyz"], Strings(At(server, "readinessProbe", "exec", "command")));
        Assert.Equal(["/app/MetadataProxy", "probe", "/healthz"], Strings(At(server, "livenessProbe", "exec", "command")));
        var resources = At(server, "resources");
        Assert.True(At(resources, "requests").TryGetProperty("cpu", out _));
        Assert.True(At(resources, "requests").TryGetProperty("memory", out _));
        Assert.True(At(resources, "limits").TryGetProperty("memory", out _));
        Assert.False(At(resources, "limits").TryGetProperty("cpu", out _), "a CPU limit throttles token requests of every pod on the node");
    }

    [Fact]
    public async Task Kustomize_ServerConfiguration_IsTheConfigurationContract()
    {
        await SkipUnlessKubectlAsync();
        var rendered = await KustomizeAsync();
        var config = rendered.Single("ConfigMap", "metadata-proxy-config-");
        var data = At(config, "data").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString());

        Assert.Equal(
            [
                "Listen__Admin", "Listen__Metadata", "Listen__NodeSocket", "Metadata__ClusterLocation", "Metadata__ClusterName", "Metadata__ClusterUid", "Mode",
                "Operations__DatapathProbeFile", "WorkloadIdentity__PoolId", "WorkloadIdentity__ProjectId", "WorkloadIdentity__ProjectNumber", "WorkloadIdentity__ProviderId",
            ],
            data.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("Kubernetes", data["Mode"]);
        Assert.Equal("http://169.254.169.252:8988;http://[fd20:ce::252]:8988", data["Listen__Metadata"]);
        Assert.Equal("http://0.0.0.0:9988", data["Listen__Admin"]);
        Assert.Equal("/var/run/metadata-proxy/node.sock", data["Listen__NodeSocket"]);
        var server = At(rendered.Single("DaemonSet"), "spec", "template", "spec", "containers", 0);
        Assert.Equal(Name(config), At(server, "envFrom", 0, "configMapRef", "name").GetString());
    }

    [Fact]
    public async Task Kustomize_InterceptionTargets_AreWhereTheServerListens()
    {
        await SkipUnlessKubectlAsync();
        var rendered = await KustomizeAsync();
        var server = At(rendered.Single("ConfigMap", "metadata-proxy-config-"), "data");
        var interception = At(rendered.Single("ConfigMap", "metadata-proxy-interception-"), "data");
        var port = At(interception, "METADATA_PROXY_PORT").GetString();

        // Issue 10, point 6: IPV6=auto may intercept IPv6, so the server must list the IPv6 target as well.
        string[] targets = [$"http://{At(interception, "METADATA_PROXY_ADDRESS").GetString()}:{port}", $"http://[{At(interception, "METADATA_PROXY_ADDRESS6").GetString()}]:{port}"];

        Assert.Equal(targets, At(server, "Listen__Metadata").GetString()!.Split(';'));
    }

    [Fact]
    public async Task Kustomize_ServerContainer_KnowsItsOwnPodFromTheDownwardApi()
    {
        await SkipUnlessKubectlAsync();
        var server = At((await KustomizeAsync()).Single("DaemonSet"), "spec", "template", "spec", "containers", 0);

        var fields = At(server, "env").EnumerateArray()
            .Where(e => e.TryGetProperty("valueFrom", out _))
            .ToDictionary(e => At(e, "name").GetString()!, e => At(e, "valueFrom", "fieldRef", "fieldPath").GetString());

        Assert.Equal(
            new Dictionary<string, string?>
            {
                ["NODE_NAME"] = "spec.nodeName",
                ["POD_NAME"] = "metadata.name",
                ["POD_UID"] = "metadata.uid",
                ["POD_NAMESPACE"] = "metadata.namespace",
                ["POD_SERVICE_ACCOUNT"] = "spec.serviceAccountName",
            },
            fields);
    }

    [Fact]
    public async Task Kustomize_NodeSocket_IsAHostDirectoryThatOnlyTheServerUserAndRootReach()
    {
        await SkipUnlessKubectlAsync();
        var rendered = await KustomizeAsync();
        var pod = At(rendered.Single("DaemonSet"), "spec", "template", "spec");
        var server = At(pod, "containers", 0);
        var socket = At(rendered.Single("ConfigMap", "metadata-proxy-config-"), "data", "Listen__NodeSocket").GetString()!;

        var volume = Volume(pod, "node-socket");
        Assert.Equal(("/var/run/metadata-proxy", "DirectoryOrCreate"), (At(volume, "hostPath", "path").GetString(), At(volume, "hostPath", "type").GetString()));
        // The same path inside as on the host: the plugin on the host finds the socket where the server made it.
        var mount = Mount(server, "node-socket");
        Assert.Equal("/var/run/metadata-proxy", At(mount, "mountPath").GetString());
        Assert.False(mount.TryGetProperty("readOnly", out var readOnly) && readOnly.GetBoolean(), "the server creates the socket");
        Assert.Equal("/var/run/metadata-proxy", Path.GetDirectoryName(socket));

        // Prepared as root for the server's user (the image's 1654): owner and mode 0700, with CHOWN and FOWNER only.
        var prepare = InitContainer(pod, "prepare-node-socket");
        Assert.Equal(At(InitContainer(pod, "install-interception"), "image").GetString(), At(prepare, "image").GetString());
        var script = string.Join(' ', Strings(At(prepare, "command")));
        var uid = At(server, "securityContext", "runAsUser").GetInt32();
        Assert.Equal(1654, uid);
        Assert.Contains($"chown {uid}:{uid} /var/run/metadata-proxy", script, StringComparison.Ordinal);
        Assert.Contains("chmod 0700 /var/run/metadata-proxy", script, StringComparison.Ordinal);
        Assert.Equal(0, At(prepare, "securityContext", "runAsUser").GetInt32());
        Assert.Equal(["ALL"], Strings(At(prepare, "securityContext", "capabilities", "drop")));
        Assert.Equal(["CHOWN", "FOWNER"], Strings(At(prepare, "securityContext", "capabilities", "add")));
        Assert.False(At(prepare, "securityContext", "allowPrivilegeEscalation").GetBoolean());
        Assert.True(At(prepare, "securityContext", "readOnlyRootFilesystem").GetBoolean());
        Assert.Equal("/var/run/metadata-proxy", At(Mount(prepare, "node-socket"), "mountPath").GetString());
    }

    [Fact]
    public async Task Kustomize_CredentialProviderInstall_RunsThePluginFromTheServerImageAsRootWithoutCapabilities()
    {
        await SkipUnlessKubectlAsync();
        var pod = At((await KustomizeAsync()).Single("DaemonSet"), "spec", "template", "spec");
        var install = InitContainer(pod, "install-credential-provider");

        Assert.Equal(At(pod, "containers", 0, "image").GetString(), At(install, "image").GetString());
        // The image's entrypoint is the server: command replaces it (chiseled image, no shell).
        Assert.Equal(["/app/metadata-proxy-credential-provider", "install", "/host/credential-provider-bin"], Strings(At(install, "command")));
        Assert.False(install.TryGetProperty("args", out _));
        var security = At(install, "securityContext");
        Assert.Equal(0, At(security, "runAsUser").GetInt32());
        Assert.False(At(security, "runAsNonRoot").GetBoolean());
        Assert.Equal(["ALL"], Strings(At(security, "capabilities", "drop")));
        Assert.False(At(security, "capabilities").TryGetProperty("add", out _));
        Assert.False(At(security, "allowPrivilegeEscalation").GetBoolean());
        Assert.True(At(security, "readOnlyRootFilesystem").GetBoolean());
        Assert.False(security.TryGetProperty("privileged", out var privileged) && privileged.GetBoolean());

        var mount = Assert.Single(At(install, "volumeMounts").EnumerateArray());
        Assert.Equal(("credential-provider-bin", "/host/credential-provider-bin"), (At(mount, "name").GetString(), At(mount, "mountPath").GetString()));
        var volume = Volume(pod, "credential-provider-bin");
        Assert.Equal(("/etc/kubernetes/image-credential-provider", "DirectoryOrCreate"), (At(volume, "hostPath", "path").GetString(), At(volume, "hostPath", "type").GetString()));
    }

    [Fact]
    public async Task Kustomize_HostDns_IsOffByDefaultAndOnlyTheInterceptionInitContainerReachesTheHostsFile()
    {
        await SkipUnlessKubectlAsync();
        var rendered = await KustomizeAsync();
        var pod = At(rendered.Single("DaemonSet"), "spec", "template", "spec");
        var interception = At(rendered.Single("ConfigMap", "metadata-proxy-interception-"), "data");
        var init = InitContainer(pod, "install-interception");

        Assert.Equal("off", At(interception, "HOST_DNS").GetString());
        Assert.Equal("off", At(interception, "HOST_INTERCEPTION").GetString());
        // A file, not DirectoryOrCreate: a missing /etc/hosts must fail the pod, not become a directory on the host.
        var volume = Volume(pod, "host-etc-hosts");
        Assert.Equal(("/etc/hosts", "File"), (At(volume, "hostPath", "path").GetString(), At(volume, "hostPath", "type").GetString()));
        var mount = Mount(init, "host-etc-hosts");
        Assert.Equal("/host/etc/hosts", At(mount, "mountPath").GetString());
        Assert.False(mount.TryGetProperty("readOnly", out var readOnly) && readOnly.GetBoolean(), "install adds and removes the line");
        Assert.Equal("/host/etc/hosts", EnvValue(init, "HOSTS_FILE"));
        Assert.False(interception.TryGetProperty("HOSTS_FILE", out _), "the path belongs with the mount, not with the operator's settings");
        // Nothing else in the pod can write the host's name resolution; the datapath probe's verify only reads it.
        var others = At(pod, "initContainers").EnumerateArray().Concat(At(pod, "containers").EnumerateArray()).Where(c => At(c, "name").GetString() != "install-interception");
        Assert.All(others, c => Assert.True(
            !Mounts(c).Contains("host-etc-hosts") || At(c, "name").GetString() == "probe-datapath" && At(Mount(c, "host-etc-hosts"), "readOnly").GetBoolean(),
            $"{At(c, "name").GetString()} mounts the host's hosts file"));
    }

    internal static string? EnvValue(JsonElement container, string name) =>
        At(Assert.Single(At(container, "env").EnumerateArray(), e => At(e, "name").GetString() == name), "value").GetString();

    internal static IEnumerable<string?> Mounts(JsonElement container) =>
        container.TryGetProperty("volumeMounts", out var mounts) ? mounts.EnumerateArray().Select(m => At(m, "name").GetString()) : [];

    internal static JsonElement InitContainer(JsonElement podSpec, string name) =>
        Assert.Single(At(podSpec, "initContainers").EnumerateArray(), c => At(c, "name").GetString() == name);

    internal static JsonElement Volume(JsonElement podSpec, string name) =>
        Assert.Single(At(podSpec, "volumes").EnumerateArray(), v => At(v, "name").GetString() == name);

    internal static JsonElement Mount(JsonElement container, string name) =>
        Assert.Single(At(container, "volumeMounts").EnumerateArray(), m => At(m, "name").GetString() == name);

    // configMapGenerator appends a content hash so that a changed configuration rolls the DaemonSet.
    private static string WithoutHashSuffix(JsonElement o) =>
        Kind(o) == "ConfigMap" ? Name(o)[..Name(o).LastIndexOf('-')] : Name(o);
}
