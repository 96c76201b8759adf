using System.Text.Json;
using System.Text.RegularExpressions;
using MetadataProxy.EndToEnd.Lab;
using static MetadataProxy.EndToEnd.Manifests.RenderedManifests;

namespace MetadataProxy.EndToEnd.Manifests;

/// <summary>
/// manifests/monitoring/: the PodMonitor scrapes the agents' admin port, and every alert rule and dashboard query
/// reads only metrics the server exports (the names in src/MetadataProxy's Create* calls).
/// </summary>
public sealed partial class MonitoringManifestTests
{
    [Fact]
    public void PromQl_MetricNames_AreTheSelectorsNotFunctionsLabelsOrRanges()
    {
        const string Expression = """
            histogram_quantile(0.99, sum by (namespace, le) (rate(a_seconds_bucket{outcome=~"ok|b", x="y(z)"}[$__rate_interval])))
              / on (pod) group_left sum without (code) (b_total offset 5m) > bool 1e3 or up{job="j"} == 0
            """;

        Assert.Equal(["a_seconds_bucket", "b_total", "up"], PromQl.MetricNames(Expression));
        Assert.Equal(["ok", "b"], PromQl.LabelValues(Expression, "outcome"));
        Assert.True(PromQl.IsBalanced(Expression));
        Assert.False(PromQl.IsBalanced("sum(rate(a_total[5m])"));
        Assert.False(PromQl.IsBalanced("a_total{x=\"y\"]"));
    }

    [Fact]
    public async Task Kustomize_Monitoring_ScrapesTheAgentsAdminPortInItsNamespace()
    {
        await SkipUnlessKubectlAsync();
        var monitoring = await KustomizeAsync("monitoring");
        var daemonSet = (await KustomizeAsync()).Single("DaemonSet");
        var podMonitor = PodMonitor(monitoring, "metadata-proxy");
        var endpoint = Assert.Single(At(podMonitor, "spec", "podMetricsEndpoints").EnumerateArray());
        var server = At(daemonSet, "spec", "template", "spec", "containers", 0);

        Assert.Equal("monitoring.coreos.com/v1", At(podMonitor, "apiVersion").GetString());
        Assert.Equal(Namespace(daemonSet), Namespace(podMonitor));
        Assert.All(At(podMonitor, "spec", "selector", "matchLabels").EnumerateObject(), label =>
            Assert.Equal(label.Value.GetString(), At(daemonSet, "spec", "template", "metadata", "labels", label.Name).GetString()));
        Assert.Equal("/metrics", At(endpoint, "path").GetString());
        // The DaemonSet declares no ports (a hostNetwork containerPort is a hostPort: no surge pod), so the address is relabelled.
        Assert.False(server.TryGetProperty("ports", out _));
        var address = Assert.Single(At(endpoint, "relabelings").EnumerateArray());
        Assert.Equal(["__meta_kubernetes_pod_ip"], At(address, "sourceLabels").EnumerateArray().Select(l => l.GetString()));
        Assert.Equal("__address__", At(address, "targetLabel").GetString());
        Assert.Equal("$1:9988", At(address, "replacement").GetString());
        Assert.Equal(Namespace(daemonSet), Namespace(monitoring.Single("PrometheusRule")));

        var dashboard = monitoring.Single("ConfigMap");
        Assert.Equal("1", At(dashboard, "metadata", "labels", "grafana_dashboard").GetString());
        using var json = JsonDocument.Parse(At(dashboard, "data", "grafana-dashboard.json").GetString()!);
        Assert.Equal("metadata-proxy", At(json.RootElement, "uid").GetString());
    }

    [Fact]
    public async Task Rules_EveryAlertReadsOnlyExportedMetricsAndSaysWhatIsWrong()
    {
        await SkipUnlessKubectlAsync();
        var monitoring = await KustomizeAsync("monitoring");
        // Prometheus names a PodMonitor's job namespace/name: the agents' group reads the agents', the controller's its own.
        var jobs = new Dictionary<string, string>
        {
            ["metadata-proxy"] = Job(PodMonitor(monitoring, "metadata-proxy")),
            ["metadata-proxy-pull-secrets"] = Job(PodMonitor(monitoring, "metadata-proxy-pull-secrets")),
        };
        var rules = At(monitoring.Single("PrometheusRule"), "spec", "groups").EnumerateArray()
            .SelectMany(g => At(g, "rules").EnumerateArray().Select(r => (Group: At(g, "name").GetString()!, Rule: r))).ToList();

        Assert.NotEmpty(rules);
        Assert.Equal(jobs.Keys.Order(StringComparer.Ordinal), rules.Select(r => r.Group).Distinct().Order(StringComparer.Ordinal));
        Assert.All(rules, item =>
        {
            var (group, rule) = item;
            var alert = At(rule, "alert").GetString()!;
            var expression = At(rule, "expr").GetString()!;
            Assert.True(PromQl.IsBalanced(expression), $"{alert}: unbalanced {expression}");
            AssertReadsOnlyExportedMetrics(alert, expression);
            Assert.All(PromQl.LabelValues(expression, "job"), j => Assert.Equal(jobs[group], j));
            Assert.Contains(At(rule, "labels", "severity").GetString(), new[] { "warning", "critical" });
            Assert.False(string.IsNullOrWhiteSpace(At(rule, "annotations", "summary").GetString()), alert);
        });
    }

    [Fact]
    public async Task Rules_CoverTheWatchRefusalsUnavailabilityAndUpstream()
    {
        await SkipUnlessKubectlAsync();
        var rules = At((await KustomizeAsync("monitoring")).Single("PrometheusRule"), "spec", "groups").EnumerateArray()
            .SelectMany(g => At(g, "rules").EnumerateArray())
            .ToDictionary(r => At(r, "alert").GetString()!, r => At(r, "expr").GetString()!);

        Assert.Contains("metadata_proxy_pod_watch_last_event_age_seconds", PromQl.MetricNames(rules["MetadataProxyPodWatchStale"]));
        Assert.Contains("code=\"503\"", rules["MetadataProxyHigh503Rate"], StringComparison.Ordinal);
        Assert.Contains("caller_unknown", PromQl.LabelValues(rules["MetadataProxyHighRefusalRate"], "outcome"));
        Assert.Equal(["upstream_unavailable", "upstream_rejected", "subject_token_rejected"], PromQl.LabelValues(rules["MetadataProxyUpstreamErrors"], "outcome"));
        Assert.Equal(["up"], PromQl.MetricNames(rules["MetadataProxyDown"]));
        Assert.Contains("metadata_proxy_upstream_calls_total", PromQl.MetricNames(rules["MetadataProxyUpstreamCallErrors"]));
        Assert.Contains("metadata_proxy_token_cache_soonest_expiry_seconds", PromQl.MetricNames(rules["MetadataProxyTokensNearExpiry"]));
        Assert.Contains("metadata_proxy_token_fetch_refusals_total", PromQl.MetricNames(rules["MetadataProxyTokenFetchRefusals"]));
    }

    [Fact]
    public async Task Kustomize_Monitoring_ScrapesThePullSecretControllerInItsOwnNamespace()
    {
        await SkipUnlessKubectlAsync();
        var podMonitor = PodMonitor(await KustomizeAsync("monitoring"), "metadata-proxy-pull-secrets");
        var deployment = (await KustomizeAsync("pull-secrets")).Single("Deployment");
        var endpoint = Assert.Single(At(podMonitor, "spec", "podMetricsEndpoints").EnumerateArray());
        var container = At(deployment, "spec", "template", "spec", "containers", 0);

        Assert.Equal([Namespace(deployment)!], Strings(At(podMonitor, "spec", "namespaceSelector", "matchNames")));
        Assert.All(At(podMonitor, "spec", "selector", "matchLabels").EnumerateObject(), label =>
            Assert.Equal(label.Value.GetString(), At(deployment, "spec", "template", "metadata", "labels", label.Name).GetString()));
        Assert.Equal("/metrics", At(endpoint, "path").GetString());
        var port = Assert.Single(At(container, "ports").EnumerateArray(), p => At(p, "name").GetString() == At(endpoint, "port").GetString());
        Assert.Equal(9988, At(port, "containerPort").GetInt32()); // the controller's admin port (Listen:Admin in PullSecrets mode)
    }

    [Fact]
    public async Task Rules_CoverThePullSecretControllerExpiryFailuresAndLeadership()
    {
        await SkipUnlessKubectlAsync();
        var rules = At((await KustomizeAsync("monitoring")).Single("PrometheusRule"), "spec", "groups").EnumerateArray()
            .SelectMany(g => At(g, "rules").EnumerateArray())
            .ToDictionary(r => At(r, "alert").GetString()!, r => (Expression: At(r, "expr").GetString()!, For: r.TryGetProperty("for", out var wait) ? wait.GetString()! : ""));

        Assert.Equal(["metadata_proxy_pull_secret_soonest_expiry_seconds"], PromQl.MetricNames(rules["MetadataProxyPullSecretsExpiringSoon"].Expression));
        Assert.Contains("< 900", rules["MetadataProxyPullSecretsExpiringSoon"].Expression, StringComparison.Ordinal); // 15 minutes
        Assert.Contains(">= 0", rules["MetadataProxyPullSecretsExpiringSoon"].Expression, StringComparison.Ordinal); // -1: none held
        Assert.Equal(["failing"], PromQl.LabelValues(rules["MetadataProxyPullSecretsFailing"].Expression, "state"));
        Assert.Equal("10m", rules["MetadataProxyPullSecretsFailing"].For);
        Assert.Equal(["refused"], PromQl.LabelValues(rules["MetadataProxyPullSecretsRefused"].Expression, "state"));
        Assert.Equal(["metadata_proxy_pull_secret_leader"], PromQl.MetricNames(rules["MetadataProxyPullSecretsNoLeader"].Expression));
        Assert.Contains("max(", rules["MetadataProxyPullSecretsNoLeader"].Expression, StringComparison.Ordinal); // over the replicas: one leader is enough
        Assert.Equal("10m", rules["MetadataProxyPullSecretsNoLeader"].For);
        Assert.Equal(["metadata_proxy_pull_secret_refresh_total"], PromQl.MetricNames(rules["MetadataProxyPullSecretRefreshErrors"].Expression));
        Assert.Equal(["up"], PromQl.MetricNames(rules["MetadataProxyPullSecretsDown"].Expression));
    }

    [Fact]
    public async Task Dashboard_EveryQueryReadsOnlyExportedMetrics()
    {
        using var dashboard = JsonDocument.Parse(await File.ReadAllTextAsync(
            Path.Combine(RepositoryFiles.Manifests, "monitoring", "grafana-dashboard.json"), TestContext.Current.CancellationToken));
        var targets = At(dashboard.RootElement, "panels").EnumerateArray()
            .SelectMany(p => At(p, "targets").EnumerateArray().Select(t => (Panel: At(p, "title").GetString()!, Expression: At(t, "expr").GetString()!)))
            .ToList();

        Assert.True(targets.Count >= 10, $"{targets.Count} queries");
        Assert.All(targets, t =>
        {
            Assert.True(PromQl.IsBalanced(t.Expression), $"{t.Panel}: unbalanced {t.Expression}");
            AssertReadsOnlyExportedMetrics(t.Panel, t.Expression);
        });
        var read = targets.SelectMany(t => PromQl.MetricNames(t.Expression)).ToHashSet(StringComparer.Ordinal);
        Assert.Superset(new HashSet<string>(StringComparer.Ordinal)
        {
            "metadata_proxy_pull_secrets", "metadata_proxy_pull_secret_refresh_total", "metadata_proxy_pull_secret_soonest_expiry_seconds",
        }, read);
        // Panel ids are unique, so Grafana keeps every panel.
        var ids = At(dashboard.RootElement, "panels").EnumerateArray().Select(p => At(p, "id").GetInt32()).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
    }

    /// <summary>
    /// Every metric name is exported by the server (a histogram as its _bucket, _sum and _count series) or is
    /// Prometheus's own <c>up</c>; every <c>outcome</c> and <c>state</c> value is one the server sets.
    /// </summary>
    private static void AssertReadsOnlyExportedMetrics(string what, string expression)
    {
        var names = PromQl.MetricNames(expression);
        Assert.True(names.Count > 0, $"{what}: no metric in {expression}");
        foreach (var name in names)
            Assert.True(Exported.Value.Names.Contains(name), $"{what}: {name} is not a metric the server exports ({expression})");
        foreach (var outcome in PromQl.LabelValues(expression, "outcome").Concat(PromQl.LabelValues(expression, "state")))
            Assert.True(Exported.Value.Strings.Contains(outcome), $"{what}: outcome or state \"{outcome}\" is never set by the server");
    }

    private static JsonElement PodMonitor(RenderedManifests monitoring, string name) =>
        Assert.Single(monitoring.Objects, o => Kind(o) == "PodMonitor" && Name(o) == name);

    private static string Job(JsonElement podMonitor) => $"{Namespace(podMonitor)}/{Name(podMonitor)}";

    private static readonly Lazy<(HashSet<string> Names, HashSet<string> Strings)> Exported = new(() =>
    {
        var names = new HashSet<string>(StringComparer.Ordinal) { "up" };
        var strings = new HashSet<string>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(Path.Combine(RepositoryFiles.Root, "src", "MetadataProxy"), "*.cs", SearchOption.AllDirectories)
                     .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)))
        {
            var source = File.ReadAllText(file);
            foreach (Match m in MetricDefinition().Matches(source))
            {
                var name = m.Groups["name"].Value;
                names.Add(name);
                if (m.Groups["type"].Value == "Histogram")
                    names.UnionWith([name + "_bucket", name + "_sum", name + "_count"]);
            }

            if (file.EndsWith("ProxyMetrics.cs", StringComparison.Ordinal))
                strings.UnionWith(StringLiteral().Matches(source).Select(m => m.Groups[1].Value));
        }

        Assert.Contains("metadata_proxy_requests_total", names);
        return (names, strings);
    });

    [GeneratedRegex(@"Create(?<type>Counter|Gauge|Histogram|Summary)\(\s*""(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)""")]
    private static partial Regex MetricDefinition();

    [GeneratedRegex("\"([a-z0-9_]+)\"")]
    private static partial Regex StringLiteral();
}
