using k8s;
using MetadataProxy.Hosting;
using MetadataProxy.Identity;
using MetadataProxy.Metadata;
using MetadataProxy.Node;
using MetadataProxy.Operations;
using MetadataProxy.Pods;
using MetadataProxy.ServiceAccounts;
using MetadataProxy.Tokens;
using Microsoft.Extensions.Options;

namespace MetadataProxy.Kubernetes;

internal static class KubernetesExtensions
{
    /// <summary>Kubernetes mode: callers are pods on this node, identities their ServiceAccounts.</summary>
    public static WebApplicationBuilder AddKubernetesIdentity(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<KubernetesOptions>()
            .Bind(builder.Configuration.GetSection(KubernetesOptions.Section))
            .PostConfigure(o => o.NodeName ??= builder.Configuration["NODE_NAME"])
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<KubernetesOptions>, KubernetesOptionsValidator>();
        builder.Services.AddOptions<IdentityOptions>()
            .Bind(builder.Configuration.GetSection(IdentityOptions.Section))
            .Validate(o => o.LookupWait >= TimeSpan.Zero && o.LookupWait <= TimeSpan.FromSeconds(2.5),
                "Identity:LookupWait must be between 0 and 00:00:02.5, inside the clients' 3 s budget (default 00:00:01.5).")
            .Validate(o => o.ServiceAccountCacheTtl >= TimeSpan.FromSeconds(1) && o.ServiceAccountCacheTtl <= TimeSpan.FromHours(1),
                "Identity:ServiceAccountCacheTtl must be between 00:00:01 and 01:00:00 (default 00:00:30).")
            .Validate(o => o.MaxConcurrentApiCalls is >= 1 and <= 1000, "Identity:MaxConcurrentApiCalls must be between 1 and 1000 (default 8).")
            .Validate(o => o.IndexStalenessLimit >= TimeSpan.FromSeconds(1) && o.IndexStalenessLimit <= TimeSpan.FromMinutes(10),
                "Identity:IndexStalenessLimit must be between 00:00:01 and 00:10:00 (default 00:02:00).")
            .Validate(o => Enum.IsDefined(o.HostNetworkPolicy), "Identity:HostNetworkPolicy must be Deny or NodeIdentity.")
            .ValidateOnStart();
        builder.AddNodeIdentity();

        builder.Services.AddSingleton<IKubernetes>(sp =>
        {
            var logger = sp.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(KubernetesClientFactory));
            StartupPhase.Reached(logger, "Kubernetes client: reading its configuration");
            var client = new k8s.Kubernetes(KubernetesClientFactory.Configuration(sp.GetRequiredService<IOptions<KubernetesOptions>>().Value));
            StartupPhase.Reached(logger, "Kubernetes client: built");
            return client;
        });
        builder.Services.AddSingleton<KubernetesCallLimiter>();
        builder.Services.AddSingleton<WarningEvents>();
        builder.Services.AddSingleton<RefusalEvents>();
        builder.Services.AddSingleton<PodIndex>();
        builder.Services.AddSingleton<PodEvents>();
        builder.Services.AddSingleton<PodLister>();
        builder.Services.AddSingleton<ServiceAccountCache>();
        builder.Services.AddSingleton<NodeInfo>();
        builder.Services.AddSingleton(_ => new BackoffJitter(Random.Shared.NextDouble));
        builder.Services.AddSingleton<PodInformer>();
        // The refresher subscribes to pod events before the informer's first list, so every pod is prefetched.
        builder.Services.AddHostedService<ServiceAccountRefresher>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<PodInformer>());
        builder.Services.AddHostedService<NodeReader>();
        builder.Services.AddHostedService<StartupTaintRemover>();
        builder.Services.AddSingleton<IReadinessCheck>(sp => sp.GetRequiredService<PodInformer>());
        // Issue 10, point 4: pods' connections only once callers can be found (the metadata listeners wait for it).
        builder.Services.AddSingleton(sp => new ServingPrecondition("the pod index has listed this node's pods",
            () => sp.GetRequiredService<PodInformer>().Synced, () => sp.GetRequiredService<PodInformer>().FirstSynced));
        builder.Services.AddSingleton<ICallerResolver, KubernetesCallerResolver>();
        builder.Services.AddSingleton<KsaTokenSource>();
        builder.Services.AddSingleton(sp => new TokenCachePolicy(Random.Shared.NextDouble)
        {
            UnavailableMemory = sp.GetRequiredService<IOptions<TokenOptions>>().Value.UnavailableMemory,
        });
        builder.Services.AddSingleton(sp =>
        {
            var tokens = sp.GetRequiredService<IOptions<TokenOptions>>().Value;
            return new NewKeyBudget(tokens.NewKeysPerAccountBurst, tokens.NewKeysPerAccountPerMinute, sp.GetRequiredService<TimeProvider>());
        });
        builder.Services.AddSingleton<IValidateOptions<TokenOptions>, TokenOptionsValidator>();
        builder.Services.AddSingleton(sp => new TokenCache<AccessTokenKey>(
            sp.GetRequiredService<TokenCachePolicy>(), sp.GetRequiredService<TimeProvider>(), groupOf: k => $"{k.Namespace}/{k.ServiceAccount}",
            metrics: sp.GetRequiredService<ProxyMetrics>(), name: "access").Observed());
        builder.Services.AddSingleton(sp => new TokenCache<IdTokenKey>(
            sp.GetRequiredService<TokenCachePolicy>(), sp.GetRequiredService<TimeProvider>(), groupOf: k => $"{k.Namespace}/{k.ServiceAccount}",
            metrics: sp.GetRequiredService<ProxyMetrics>(), name: "id").Observed());
        builder.Services.AddSingleton<WorkloadIdentityExchange>();
        builder.Services.AddSingleton<WorkloadIdentityTokenProvider>();
        builder.Services.AddSingleton<ITokenProvider>(sp => sp.GetRequiredService<WorkloadIdentityTokenProvider>());
        builder.Services.AddHostedService<TokenMaintenance>();
        builder.Services.AddSingleton<IValidateOptions<WorkloadIdentityOptions>, WorkloadIdentityOptionsValidator>();
        builder.Services.AddOptions<WorkloadIdentityOptions>().ValidateOnStart();

        builder.Services.AddOptions<MetadataOptions>().PostConfigure<IOptions<KubernetesOptions>, IServiceProvider>((metadata, kubernetes, services) =>
        {
            // Issue 3, item 5: configuration first, then the Node object.
            var facts = services.GetRequiredService<NodeInfo>().Facts;
            metadata.Zone ??= facts.Zone;
            metadata.InstanceName ??= kubernetes.Value.NodeName;
            metadata.Hostname ??= facts.Hostname ?? kubernetes.Value.NodeName;
        });
        return builder;
    }
}
