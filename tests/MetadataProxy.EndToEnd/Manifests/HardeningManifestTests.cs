using System.Text.Json;
using static MetadataProxy.EndToEnd.Manifests.RenderedManifests;

namespace MetadataProxy.EndToEnd.Manifests;

/// <summary>
/// manifests/hardening/: the admission policy that narrows the agent's write grants, evaluated (CEL) against the
/// requests the server makes and the ones a compromised agent would; and the network policy examples.
/// </summary>
public sealed class HardeningManifestTests
{
    private const string Agent = "system:serviceaccount:metadata-proxy:metadata-proxy";
    private const string NodeNameKey = "authentication.kubernetes.io/node-name";

    // The server's audience from config.env's placeholders: "https:" + the provider's resource name
    // (WorkloadIdentityOptions.EffectiveTokenAudience).
    private const string PoolAudience =
        "https://iam.googleapis.com/projects/PROJECT_NUMBER/locations/global/workloadIdentityPools/POOL_ID/providers/PROVIDER_ID";

    [Fact]
    public async Task Kustomize_Hardening_BindsThePolicyToTheServersConfigMapAndItsServiceAccount()
    {
        await SkipUnlessKubectlAsync();
        var rendered = await KustomizeWithComponentsAsync("hardening");
        var policy = rendered.Single("ValidatingAdmissionPolicy");
        var binding = rendered.Single("ValidatingAdmissionPolicyBinding");
        var pod = At(rendered.Single("DaemonSet"), "spec", "template", "spec");

        Assert.Equal("admissionregistration.k8s.io/v1", At(policy, "apiVersion").GetString());
        Assert.Equal("Fail", At(policy, "spec", "failurePolicy").GetString());
        Assert.Equal(Name(policy), At(binding, "spec", "policyName").GetString());
        Assert.Equal(["Deny"], Strings(At(binding, "spec", "validationActions")));
        // The parameters are the server's own ConfigMap, by its generated (hashed) name; none found: deny.
        var config = rendered.Single("ConfigMap", "metadata-proxy-config-");
        Assert.Equal((Name(config), Namespace(config)), (At(binding, "spec", "paramRef", "name").GetString(), At(binding, "spec", "paramRef", "namespace").GetString()));
        Assert.Equal("Deny", At(binding, "spec", "paramRef", "parameterNotFoundAction").GetString());
        Assert.Equal(("v1", "ConfigMap"), (At(policy, "spec", "paramKind", "apiVersion").GetString(), At(policy, "spec", "paramKind", "kind").GetString()));
        // The user it narrows is the DaemonSet's ServiceAccount.
        var user = $"system:serviceaccount:{Namespace(rendered.Single("DaemonSet"))}:{At(pod, "serviceAccountName").GetString()}";
        Assert.Equal(Agent, user);
        Assert.Contains($"'{user}'", At(policy, "spec", "matchConditions", 0, "expression").GetString(), StringComparison.Ordinal);
        // Exactly the two write grants it narrows.
        Assert.Equal(
            ["CREATE serviceaccounts/token", "UPDATE nodes"],
            At(policy, "spec", "matchConstraints", "resourceRules").EnumerateArray()
                .SelectMany(r => from o in Strings(At(r, "operations")) from res in Strings(At(r, "resources")) select $"{o} {res}")
                .Order(StringComparer.Ordinal));
        Assert.All(At(policy, "spec", "validations").EnumerateArray(), v => Assert.Equal("Forbidden", At(v, "reason").GetString()));
    }

    [Fact]
    public async Task Policy_PodBoundTokenForThePoolAudience_IsAllowed()
    {
        var policy = await PolicyAsync();

        Assert.IsType<AdmissionDecision.Allowed>(policy.Evaluate(TokenRequest(PoolAudience, """{"kind": "Pod", "apiVersion": "v1", "name": "app-1", "uid": "5a1e"}""")));
    }

    [Fact]
    public async Task Policy_NodeIdentityTokenBoundToItsOwnNode_IsAllowed()
    {
        var policy = await PolicyAsync();

        Assert.IsType<AdmissionDecision.Allowed>(policy.Evaluate(TokenRequest(PoolAudience, """{"kind": "Node", "apiVersion": "v1", "name": "node-1", "uid": "n1"}""")));
    }

    [Theory]
    [InlineData("https://kubernetes.default.svc.cluster.local")]
    [InlineData("")]
    [InlineData("https://iam.googleapis.com/projects/PROJECT_NUMBER/locations/global/workloadIdentityPools/POOL_ID/providers/OTHER")]
    public async Task Policy_TokenForAnotherAudience_IsDeniedNamingTheAllowedOne(string audience)
    {
        var policy = await PolicyAsync();

        var denied = Assert.IsType<AdmissionDecision.Denied>(policy.Evaluate(TokenRequest(audience, """{"kind": "Pod", "name": "app-1", "uid": "5a1e"}""")));
        Assert.Equal($"the metadata-proxy agent may only request tokens for the audience {PoolAudience}", denied.Message);
    }

    [Fact]
    public async Task Policy_TokenForThePoolAndAnotherAudience_IsDenied()
    {
        var policy = await PolicyAsync();
        var request = TokenRequest(PoolAudience, """{"kind": "Pod", "name": "app-1", "uid": "5a1e"}""",
            audiences: $"""["{PoolAudience}", "https://kubernetes.default.svc"]""");

        Assert.IsType<AdmissionDecision.Denied>(policy.Evaluate(request));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("""{"kind": "Pod", "name": "app-1"}""")]
    [InlineData("""{"kind": "Pod", "name": "app-1", "uid": ""}""")]
    [InlineData("""{"kind": "Secret", "name": "s", "uid": "1"}""")]
    [InlineData("""{"kind": "Node", "name": "node-2", "uid": "n2"}""")]
    public async Task Policy_TokenNotBoundToAPodOrItsOwnNode_IsDenied(string? boundObjectRef)
    {
        var policy = await PolicyAsync();

        var denied = Assert.IsType<AdmissionDecision.Denied>(policy.Evaluate(TokenRequest(PoolAudience, boundObjectRef)));
        Assert.Equal("the metadata-proxy agent may only request tokens bound to a pod (name and UID) or to its own node", denied.Message);
    }

    [Fact]
    public async Task Policy_AgentCredentialWithoutANodeName_IsDeniedForEverything()
    {
        var policy = await PolicyAsync();
        var token = TokenRequest(PoolAudience, """{"kind": "Pod", "name": "app-1", "uid": "5a1e"}""") with { Extra = new Dictionary<string, IReadOnlyList<string>>() };
        var patch = NodeUpdate("node-1", Node("node-1", taints: """[{"key": "metadataproxy.io/agent-not-ready", "effect": "NoSchedule"}]"""), Node("node-1")) with { Extra = new Dictionary<string, IReadOnlyList<string>>() };

        Assert.StartsWith("the metadata-proxy agent's credential names no node", Assert.IsType<AdmissionDecision.Denied>(policy.Evaluate(token)).Message, StringComparison.Ordinal);
        Assert.StartsWith("the metadata-proxy agent's credential names no node", Assert.IsType<AdmissionDecision.Denied>(policy.Evaluate(patch)).Message, StringComparison.Ordinal);
        // A credential with no extra at all (a legacy Secret token): the same clear denial, not an evaluation error.
        Assert.StartsWith("the metadata-proxy agent's credential names no node", Assert.IsType<AdmissionDecision.Denied>(policy.Evaluate(token with { Extra = null })).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Policy_ConfiguredTokenAudience_IsTheOnlyAudienceAllowed()
    {
        var policy = await PolicyAsync(("WorkloadIdentity__TokenAudience", "https://example.invalid/pool"));

        Assert.IsType<AdmissionDecision.Allowed>(policy.Evaluate(TokenRequest("https://example.invalid/pool", """{"kind": "Pod", "name": "a", "uid": "1"}""")));
        Assert.IsType<AdmissionDecision.Denied>(policy.Evaluate(TokenRequest(PoolAudience, """{"kind": "Pod", "name": "a", "uid": "1"}""")));
    }

    [Fact]
    public async Task Policy_RemovingItsStartupTaintFromItsOwnNode_IsAllowed()
    {
        var policy = await PolicyAsync();
        var before = Node("node-1", taints: """[{"key": "node.kubernetes.io/disk-pressure", "effect": "NoSchedule"}, {"key": "metadataproxy.io/agent-not-ready", "effect": "NoSchedule"}]""");
        var after = Node("node-1", taints: """[{"key": "node.kubernetes.io/disk-pressure", "effect": "NoSchedule"}]""");

        Assert.IsType<AdmissionDecision.Allowed>(policy.Evaluate(NodeUpdate("node-1", after, before)));
        // The last taint gone: the field is absent.
        Assert.IsType<AdmissionDecision.Allowed>(policy.Evaluate(NodeUpdate("node-1", Node("node-1"), Node("node-1", taints: """[{"key": "metadataproxy.io/agent-not-ready", "effect": "NoSchedule"}]"""))));
    }

    [Fact]
    public async Task Policy_PatchOfAnotherNode_IsDenied()
    {
        var policy = await PolicyAsync();

        var denied = Assert.IsType<AdmissionDecision.Denied>(policy.Evaluate(NodeUpdate("node-2", Node("node-2"), Node("node-2", taints: """[{"key": "metadataproxy.io/agent-not-ready", "effect": "NoSchedule"}]"""))));
        Assert.Equal("the metadata-proxy agent on node node-1 may only change its own Node", denied.Message);
    }

    [Theory]
    [InlineData("removes another taint", """[{"key": "metadataproxy.io/x", "effect": "NoSchedule"}, {"key": "node.kubernetes.io/unreachable", "effect": "NoExecute"}]""", """[{"key": "metadataproxy.io/x", "effect": "NoSchedule"}]""", null, null, "taints")]
    [InlineData("adds another taint", null, """[{"key": "evil.example/t", "effect": "NoExecute"}]""", null, null, "taints")]
    [InlineData("changes another taint's effect", """[{"key": "a.example/t", "effect": "NoSchedule"}]""", """[{"key": "a.example/t", "effect": "NoExecute"}]""", null, null, "taints")]
    [InlineData("adds a label", null, null, null, """{"node-role.kubernetes.io/control-plane": ""}""", "labels or annotations")]
    [InlineData("cordons the node", null, null, """{"unschedulable": true}""", null, "spec")]
    public async Task Policy_ChangeToItsOwnNodeBeyondItsTaints_IsDenied(string change, string? oldTaints, string? newTaints, string? newSpec, string? newLabels, string denial)
    {
        var policy = await PolicyAsync();
        var before = Node("node-1", taints: oldTaints);
        var after = Node("node-1", taints: newTaints, spec: newSpec, labels: newLabels);

        var denied = Assert.IsType<AdmissionDecision.Denied>(policy.Evaluate(NodeUpdate("node-1", after, before)));
        Assert.True(denied.Message.Contains(denial, StringComparison.Ordinal), $"{change}: {denied.Message}");
    }

    [Fact]
    public async Task Policy_OtherUsers_AreNotNarrowed()
    {
        var policy = await PolicyAsync();
        var kubelet = TokenRequest("https://kubernetes.default.svc", null) with { UserName = "system:node:node-1" };
        var admin = NodeUpdate("node-2", Node("node-2", labels: """{"a": "b"}"""), Node("node-2")) with { UserName = "kubernetes-admin" };

        Assert.IsType<AdmissionDecision.NotApplicable>(policy.Evaluate(kubelet));
        Assert.IsType<AdmissionDecision.NotApplicable>(policy.Evaluate(admin));
    }

    [Fact]
    public async Task NetworkPolicyExamples_AllowPodsBothSidesOfTheDnatAndCiliumGuardsTheAdminPort()
    {
        await SkipUnlessKubectlAsync();
        // The server's ports as config.env gives them (the DaemonSet declares no containerPorts: no hostPort for the surge).
        var config = At((await KustomizeAsync()).Single("ConfigMap", "metadata-proxy-config-"), "data");
        var adminPort = new Uri(At(config, "Listen__Admin").GetString()!).Port;
        var metadataPort = new Uri(At(config, "Listen__Metadata").GetString()!.Split(';')[0]).Port;

        var policy = (await FileAsync("hardening/network-policies/allow-metadata-egress.yaml")).Single("NetworkPolicy");
        Assert.Equal(["Egress"], Strings(At(policy, "spec", "policyTypes")));
        Assert.Equal(
            ["169.254.169.252/32:8988", "169.254.169.254/32:80"],
            At(policy, "spec", "egress").EnumerateArray()
                .Select(r => $"{At(r, "to", 0, "ipBlock", "cidr").GetString()}:{At(r, "ports", 0, "port").GetInt32()}").Order(StringComparer.Ordinal));
        Assert.Contains($"169.254.169.252/32:{metadataPort}", At(policy, "spec", "egress").EnumerateArray().Select(r => $"{At(r, "to", 0, "ipBlock", "cidr").GetString()}:{At(r, "ports", 0, "port").GetInt32()}"));

        var cilium = (await FileAsync("hardening/network-policies/cilium-allow-metadata-egress.yaml")).Single("CiliumNetworkPolicy");
        Assert.Equal(
            ["169.254.169.252/32:8988", "169.254.169.254/32:80"],
            At(cilium, "spec", "egress").EnumerateArray()
                .Select(r => $"{At(r, "toCIDR", 0).GetString()}:{At(r, "toPorts", 0, "ports", 0, "port").GetString()}").Order(StringComparer.Ordinal));

        var host = (await FileAsync("hardening/network-policies/cilium-admin-port.yaml")).Single("CiliumClusterwideNetworkPolicy");
        Assert.All(At(host, "spec", "ingress").EnumerateArray(), rule =>
            Assert.Equal(adminPort.ToString(System.Globalization.CultureInfo.InvariantCulture), At(rule, "toPorts", 0, "ports", 0, "port").GetString()));
        Assert.Equal(["host"], Strings(At(host, "spec", "ingress", 0, "fromEntities")));
    }

    private static async Task<AdmissionPolicy> PolicyAsync(params (string Key, string Value)[] configuration)
    {
        await SkipUnlessKubectlAsync();
        var rendered = await KustomizeWithComponentsAsync("hardening");
        var config = rendered.Single("ConfigMap", "metadata-proxy-config-");
        if (configuration.Length > 0)
        {
            var data = At(config, "data").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString());
            foreach (var (key, value) in configuration)
                data[key] = value;
            config = JsonSerializer.SerializeToElement(new { data });
        }

        return new AdmissionPolicy(rendered.Single("ValidatingAdmissionPolicy"), config);
    }

    private static Dictionary<string, IReadOnlyList<string>> OnNode1 => new() { [NodeNameKey] = ["node-1"] };

    private static AdmissionRequest TokenRequest(string audience, string? boundObjectRef, string? audiences = null)
    {
        var spec = $$"""{"audiences": {{audiences ?? $"[\"{audience}\"]"}}, "expirationSeconds": 3600{{(boundObjectRef is null ? "" : $", \"boundObjectRef\": {boundObjectRef}")}}}""";
        var tokenRequest = JsonDocument.Parse($$"""{"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {{spec}}}""").RootElement;
        return new AdmissionRequest("CREATE", "", "serviceaccounts", "token", "app", "app-namespace", Agent, OnNode1, tokenRequest, null);
    }

    private static AdmissionRequest NodeUpdate(string name, JsonElement after, JsonElement before) =>
        new("UPDATE", "", "nodes", "", name, null, Agent, OnNode1, after, before);

    private static JsonElement Node(string name, string? taints = null, string? spec = null, string? labels = null)
    {
        var specFields = new List<string> { "\"podCIDR\": \"10.0.1.0/24\"", "\"providerID\": \"gce://p/z/node\"" };
        if (taints is not null)
            specFields.Add($"\"taints\": {taints}");
        if (spec is not null)
            specFields.Add(spec.Trim()[1..^1]);
        var metadata = $$"""{"name": "{{name}}", "labels": {{labels ?? """{"kubernetes.io/hostname": "host"}"""}} }""";
        return JsonDocument.Parse($$"""
            {"apiVersion": "v1", "kind": "Node", "metadata": {{metadata}}, "spec": { {{string.Join(", ", specFields)}} } }
            """).RootElement;
    }
}
