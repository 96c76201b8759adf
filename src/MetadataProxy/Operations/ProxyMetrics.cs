using MetadataProxy.Hosting;
using MetadataProxy.Metadata;
using Prometheus;

namespace MetadataProxy.Operations;

/// <summary>All of the server's metrics, on an injected registry; labels are bounded enums, never addresses or paths.</summary>
internal sealed class ProxyMetrics
{
    private readonly Counter _requests;
    private readonly Histogram _duration;
    private readonly Counter _podWatchEvents;
    private readonly Counter _podRelists;
    private readonly Counter _podWatchFailures;
    private readonly Counter _podWatchSilent;
    private readonly Gauge _podIndexPods;
    private readonly Counter _callerResolutions;
    private readonly Counter _nodeSocketRefused;
    private readonly Counter _registryCredentials;
    private readonly Counter _connectionsRefused;
    private readonly Gauge _connectionsOpen;
    private readonly Counter _tokenFetchRefusals;
    private readonly Counter _upstreamCalls;
    private readonly Histogram _upstreamDuration;
    private readonly Counter _tokenCacheHits;
    private readonly Counter _tokenCacheMisses;
    private readonly Counter _tokenCacheRefreshes;
    private readonly Counter _passthroughRequests;
    private readonly Histogram _passthroughDuration;

    // The children of a 200, resolved once: a label lookup per request is what the profile showed.
    private readonly Counter.Child _requestsOk;
    private readonly Histogram.Child _durationOk;

    private readonly CollectorRegistry _registry;
    private readonly MetricFactory _factory;

    public ProxyMetrics(CollectorRegistry registry)
    {
        var factory = Metrics.WithCustomRegistry(registry);
        // No exemplars: the server starts no traces, and looking for one (Activity.Current) on every Inc and Observe of
        // the request counters showed in the hot path's profile (issue 11).
        factory.ExemplarBehavior = new ExemplarBehavior { DefaultExemplarProvider = (_, _) => Exemplar.None };
        _registry = registry;
        _factory = factory;
        _podWatchEvents = factory.CreateCounter("metadata_proxy_pod_watch_events_total", "Pod watch events applied to the index, by type.", "type");
        _podRelists = factory.CreateCounter("metadata_proxy_pod_relists_total", "Full lists of this node's pods (start, and after a 410).");
        _podWatchFailures = factory.CreateCounter("metadata_proxy_pod_watch_failures_total", "Pod list or watch attempts that failed and were retried.");
        _podWatchSilent = factory.CreateCounter("metadata_proxy_pod_watch_silent_total",
            "Pod watches restarted because they sent neither an event nor a bookmark for twice Kubernetes:WatchBookmarkInterval.");
        _podIndexPods = factory.CreateGauge("metadata_proxy_pod_index_pods", "Pods on this node known to the index (live or not).");
        _callerResolutions = factory.CreateCounter("metadata_proxy_caller_resolutions_total",
            "Caller lookups by how they were answered: index, after_wait, live_list, or the refusal.", "outcome");
        _nodeSocketRefused = factory.CreateCounter("metadata_proxy_node_socket_refused_total",
            "Node-socket connections closed because the peer was neither root nor the server's own user.");
        _registryCredentials = factory.CreateCounter("metadata_proxy_registry_credentials_total",
            "Registry credentials asked for over the node socket, by path (node, pod) and outcome (ok or the refusal).", "path", "outcome");
        _connectionsRefused = factory.CreateCounter("metadata_proxy_connections_refused_total",
            "Connections answered 503 and closed on arrival, by listener (metadata, admin) and reason (source_full, listener_full).", "listener", "reason");
        _connectionsOpen = factory.CreateGauge("metadata_proxy_connections_open",
            "Connections open now, by listener (metadata, admin).", "listener");

        _tokenFetchRefusals = factory.CreateCounter("metadata_proxy_token_fetch_refusals_total",
            "Token fetches not sent to Google, by reason: account_new_key_limit, account_fetch_limit (both 429 to the caller), abandoned (nobody waited any more).", "reason");
        _upstreamCalls = factory.CreateCounter("metadata_proxy_upstream_calls_total",
            "Calls to Kubernetes and Google for tokens, by call (token_request, sts, iam_access_token, iam_id_token, google_other) " +
            "and outcome (ok, 4xx, 5xx, timeout, cancelled, error).", "call", "outcome");
        _upstreamDuration = factory.CreateHistogram("metadata_proxy_upstream_call_duration_seconds",
            "Time of one call to Kubernetes or Google for a token, by call, whatever its outcome.",
            new HistogramConfiguration
            {
                LabelNames = ["call"],
                Buckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
            });
        _tokenCacheHits = factory.CreateCounter("metadata_proxy_token_cache_hits_total",
            "Token asks answered from the cache at once, by cache (access, id).", "cache");
        _tokenCacheMisses = factory.CreateCounter("metadata_proxy_token_cache_misses_total",
            "Token asks that waited for a fetch (or were answered a remembered refusal), by cache (access, id).", "cache");
        _tokenCacheRefreshes = factory.CreateCounter("metadata_proxy_token_cache_refreshes_total",
            "Background refreshes started for a held token that was due, by cache (access, id).", "cache");
        var build = factory.CreateGauge("metadata_proxy_build_info", "Always 1; the version of this server in its label.", "version");
        build.WithLabels(BuildVersion()).Set(1);
        _requests = factory.CreateCounter(
            "metadata_proxy_requests_total",
            "Metadata requests answered, by outcome (ok, redirect, or the refusal reason) and status code.",
            "outcome", "code");
        _duration = factory.CreateHistogram(
            "metadata_proxy_request_duration_seconds",
            "Time to answer a metadata request, by outcome.",
            new HistogramConfiguration
            {
                LabelNames = ["outcome"],
                Buckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
            });
        _passthroughRequests = factory.CreateCounter("metadata_proxy_upstream_requests_total",
            "Requests for allow-listed paths sent (or refused to be sent) to the VM's own metadata server, by outcome (ok, 3xx, 4xx, 5xx, timeout, " +
            "unreachable, cancelled, broken, unchecked, loop).", "outcome");
        _passthroughDuration = factory.CreateHistogram("metadata_proxy_upstream_request_duration_seconds",
            "Time of one request to the VM's own metadata server, by kind (value; wait for a wait_for_change; merge for the VM's part of a merged listing).",
            new HistogramConfiguration
            {
                LabelNames = ["kind"],
                Buckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 30, 300, 3600],
            });
        _requestsOk = _requests.WithLabels("ok", "200");
        _durationOk = _duration.WithLabels("ok");
    }

    public void RequestCompleted(MetadataResult result, TimeSpan elapsed)
    {
        if (result is MetadataResult.Content)
        {
            _requestsOk.Inc();
            _durationOk.Observe(elapsed.TotalSeconds);
            return;
        }

        var (outcome, code) = result switch
        {
            MetadataResult.Content => ("ok", "200"),
            MetadataResult.Redirect => ("redirect", "301"),
            MetadataResult.Failure f => (OutcomeLabel(f.Reason), MetadataResponseWriter.StatusCodeOf(f.Reason).ToString(System.Globalization.CultureInfo.InvariantCulture)),
            _ => ("unknown", "0"),
        };
        _requests.WithLabels(outcome, code).Inc();
        _duration.WithLabels(outcome).Observe(elapsed.TotalSeconds);
    }

    public void NodeSocketRefused() => _nodeSocketRefused.Inc();

    public void ConnectionRefused(string listener, ConnectionAdmission admission) =>
        _connectionsRefused.WithLabels(listener, admission == ConnectionAdmission.SourceFull ? "source_full" : "listener_full").Inc();

    public void ConnectionOpened(string listener) => _connectionsOpen.WithLabels(listener).Inc();

    public void ConnectionClosed(string listener) => _connectionsOpen.WithLabels(listener).Dec();

    /// <summary>A token fetch the fairness limits kept from Google; <paramref name="reason"/> is one of a fixed few.</summary>
    public void TokenFetchRefused(string reason) => _tokenFetchRefusals.WithLabels(reason).Inc();

    /// <summary>One registry credential answer; <paramref name="path"/> is <c>node</c> or <c>pod</c>.</summary>
    public void RegistryCredentials(string path, MetadataResult result) =>
        _registryCredentials.WithLabels(path, result is MetadataResult.Failure f ? OutcomeLabel(f.Reason) : "ok").Inc();

    public void RequestAborted() => _requests.WithLabels("aborted", "0").Inc();

    public void PodWatchEvent(string type) => _podWatchEvents.WithLabels(type.ToLowerInvariant()).Inc();

    public void PodIndexRelisted(int pods)
    {
        _podRelists.Inc();
        _podIndexPods.Set(pods);
    }

    public void PodIndexSize(int pods) => _podIndexPods.Set(pods);

    public void PodWatchFailed() => _podWatchFailures.Inc();

    public void PodWatchSilent() => _podWatchSilent.Inc();

    /// <summary>Exports how long ago the informer last heard from the API server, read at each scrape.</summary>
    public void ObservePodInformer(Func<TimeSpan?> sinceLastContact)
    {
        var age = _factory.CreateGauge("metadata_proxy_pod_watch_last_event_age_seconds",
            "Seconds since the pod informer last received a list, watch event or bookmark (-1 before the first).");
        _registry.AddBeforeCollectCallback(() => age.Set(sinceLastContact() is { } since ? since.TotalSeconds : -1));
    }

    /// <summary>One finished call to Kubernetes or Google; both labels are from a fixed few (see <see cref="UpstreamOutcomes"/>).</summary>
    public void UpstreamCall(string call, string outcome, TimeSpan elapsed)
    {
        _upstreamCalls.WithLabels(call, outcome).Inc();
        _upstreamDuration.WithLabels(call).Observe(elapsed.TotalSeconds);
    }

    public void TokenCacheHit(string cache) => _tokenCacheHits.WithLabels(cache).Inc();

    public void TokenCacheMiss(string cache) => _tokenCacheMisses.WithLabels(cache).Inc();

    public void TokenCacheRefresh(string cache) => _tokenCacheRefreshes.WithLabels(cache).Inc();

    /// <summary>
    /// Exports a token cache's size and the seconds until the soonest expiry among the tokens it keeps fresh (-1 when
    /// it keeps none), read at each scrape.
    /// </summary>
    public void ObserveTokenCache(string cache, Func<int> entries, Func<TimeSpan?> soonestExpiry)
    {
        var size = _factory.CreateGauge("metadata_proxy_token_cache_entries", "Keys held by a token cache (token, remembered refusal or fetch), by cache.", "cache");
        var expiry = _factory.CreateGauge("metadata_proxy_token_cache_soonest_expiry_seconds",
            "Seconds until the soonest expiry among the cached tokens still in use (refreshed ahead of need), by cache; -1 when none.", "cache");
        _registry.AddBeforeCollectCallback(() =>
        {
            size.WithLabels(cache).Set(entries());
            expiry.WithLabels(cache).Set(soonestExpiry() is { } left ? left.TotalSeconds : -1);
        });
    }

    public void CallerResolved(string outcome) => _callerResolutions.WithLabels(outcome).Inc();

    /// <summary>One passthrough request to the VM's metadata server; <paramref name="outcome"/> is one of a fixed few.</summary>
    public void UpstreamRequest(string outcome, string kind, TimeSpan elapsed)
    {
        _passthroughRequests.WithLabels(outcome).Inc();
        _passthroughDuration.WithLabels(kind).Observe(elapsed.TotalSeconds);
    }

    // Pull-secret controller (issue 13). Created on first use: only that mode exports them.
    private Counter? _pullSecretRefreshes;
    private Counter? _pullSecretConflicts;
    private Counter? _pullSecretAccountWatchEnds;
    private Counter? _eventsDropped;

    /// <summary>The ServiceAccount watch ended or its list failed: closed (resumed), silent (resumed after SilenceLimit), expired (relisted), failed or list_failed (backed off).</summary>
    public void PullSecretAccountWatchEnded(string reason) =>
        (_pullSecretAccountWatchEnds ??= _factory.CreateCounter("metadata_proxy_pull_secret_account_watch_ends_total",
            "Ends of the pull-secret controller's ServiceAccount list/watch, by reason (closed, silent, expired, failed, list_failed).", "reason")).WithLabels(reason).Inc();

    /// <summary>A Warning Event not written because the queue of Events waiting for the API server was full.</summary>
    public void KubernetesEventDropped() =>
        (_eventsDropped ??= _factory.CreateCounter("metadata_proxy_kubernetes_events_dropped_total",
            "Warning Events dropped because too many already waited to be written to a slow API server.")).Inc();

    /// <summary>One refresh of a pull Secret's credential: ok, or why not (kubernetes_refused, kubernetes_unavailable, google_rejected, google_unavailable, too_short).</summary>
    public void PullSecretRefresh(string outcome) =>
        (_pullSecretRefreshes ??= _factory.CreateCounter("metadata_proxy_pull_secret_refresh_total",
            "Refreshes of image pull Secrets' credentials, by outcome (ok or why not).", "outcome")).WithLabels(outcome).Inc();

    /// <summary>A pull Secret write answered 409 (someone changed it since it was read) and retried.</summary>
    public void PullSecretConflict() =>
        (_pullSecretConflicts ??= _factory.CreateCounter("metadata_proxy_pull_secret_conflicts_total",
            "Writes of image pull Secrets answered 409 Conflict and retried on the Secret as it is now.")).Inc();

    /// <summary>
    /// Exports the managed pull Secrets by state, the seconds to the soonest expiry among them (-1 when none) and whether
    /// this replica holds the Lease, read at each scrape.
    /// </summary>
    public void ObservePullSecrets(Func<(int Current, int Failing, int Refused, TimeSpan? SoonestExpiry)> summary, Func<bool> isLeader)
    {
        var leader = _factory.CreateGauge("metadata_proxy_pull_secret_leader",
            "1 while this replica holds the pull-secret controller's Lease (the only replica that writes), else 0.");
        var secrets = _factory.CreateGauge("metadata_proxy_pull_secrets",
            "ServiceAccounts with an image pull Secret, by state (current, failing, refused); 0 on a replica that does not lead.", "state");
        var soonest = _factory.CreateGauge("metadata_proxy_pull_secret_soonest_expiry_seconds",
            "Seconds until the soonest expiry among the credentials held by managed pull Secrets; -1 when none.");
        _registry.AddBeforeCollectCallback(() =>
        {
            var now = summary();
            secrets.WithLabels("current").Set(now.Current);
            secrets.WithLabels("failing").Set(now.Failing);
            secrets.WithLabels("refused").Set(now.Refused);
            soonest.Set(now.SoonestExpiry is { } left ? left.TotalSeconds : -1);
            leader.Set(isLeader() ? 1 : 0);
        });
    }

    private static string BuildVersion()
    {
        var assembly = typeof(ProxyMetrics).Assembly;
        var version = System.Reflection.CustomAttributeExtensions.GetCustomAttribute<System.Reflection.AssemblyInformationalVersionAttribute>(assembly)?.InformationalVersion
                      ?? assembly.GetName().Version?.ToString() ?? "unknown";
        return version;
    }

    private static string OutcomeLabel(FailureReason reason) => reason switch
    {
        FailureReason.BadRequest => "bad_request",
        FailureReason.TooManyRequests => "too_many_requests",
        FailureReason.NotFound => "not_found",
        FailureReason.MethodNotAllowed => "method_not_allowed",
        FailureReason.MissingMetadataFlavor => "missing_metadata_flavor",
        FailureReason.Forwarded => "forwarded",
        FailureReason.LegacyEndpoint => "legacy_endpoint",
        FailureReason.Concealed => "concealed",
        FailureReason.CallerUnknown => "caller_unknown",
        FailureReason.CallerAmbiguous => "caller_ambiguous",
        FailureReason.HostNetworkDenied => "host_network_denied",
        FailureReason.InvalidAnnotation => "invalid_annotation",
        FailureReason.ServiceAccountMissing => "service_account_missing",
        FailureReason.ServiceAccountUnavailable => "service_account_unavailable",
        FailureReason.NoGoogleServiceAccount => "no_google_service_account",
        FailureReason.UpstreamRejected => "upstream_rejected",
        FailureReason.SubjectTokenRejected => "subject_token_rejected",
        FailureReason.UpstreamUnavailable => "upstream_unavailable",
        FailureReason.CredentialsNotConfigured => "credentials_not_configured",
        _ => "unknown",
    };
}
