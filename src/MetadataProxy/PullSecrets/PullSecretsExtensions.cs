using k8s;
using MetadataProxy.Identity;
using MetadataProxy.Kubernetes;
using MetadataProxy.Operations;
using MetadataProxy.Pods;
using MetadataProxy.Tokens;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace MetadataProxy.PullSecrets;

internal static class PullSecretsExtensions
{
    /// <summary>
    /// <c>Mode=PullSecrets</c>: a Deployment that keeps image pull Secrets of opted-in ServiceAccounts fresh, through
    /// the same Kubernetes token source and Google exchange as the DaemonSet; no metadata listener, no pod informer.
    /// </summary>
    public static WebApplicationBuilder AddPullSecrets(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<PullSecretsOptions>()
            .Bind(builder.Configuration.GetSection(PullSecretsOptions.Section))
            .PostConfigure(o =>
            {
                o.Namespace ??= builder.Configuration["POD_NAMESPACE"];
                o.Identity ??= builder.Configuration["POD_NAME"];
            })
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<PullSecretsOptions>, PullSecretsOptionsValidator>();

        // The shared pieces the exchange needs, as Kubernetes mode registers them (the pod index stays empty: the
        // exchange here always has a subject token of its own, bound to the Secret).
        builder.Services.AddOptions<KubernetesOptions>().Bind(builder.Configuration.GetSection(KubernetesOptions.Section)).ValidateOnStart();
        builder.Services.AddOptions<IdentityOptions>().Bind(builder.Configuration.GetSection(IdentityOptions.Section))
            .Validate(o => o.MaxConcurrentApiCalls is >= 1 and <= 1000, "Identity:MaxConcurrentApiCalls must be between 1 and 1000 (default 8).")
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<KubernetesOptions>>(new PullSecretsKubernetesValidator());
        builder.Services.AddOptions<WorkloadIdentityOptions>().Bind(builder.Configuration.GetSection(WorkloadIdentityOptions.Section)).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<WorkloadIdentityOptions>, WorkloadIdentityOptionsValidator>();
        builder.Services.AddOptions<TokenOptions>().Bind(builder.Configuration.GetSection(TokenOptions.Section))
            .Validate(o => o.UpstreamDeadline > TimeSpan.Zero && o.UpstreamDeadline <= TimeSpan.FromSeconds(30),
                "Tokens:UpstreamDeadline must be between 0 and 30 seconds (default 00:00:02.5).")
            .Validate(o => o.KsaTokenLifetime >= TimeSpan.FromMinutes(10) && o.KsaTokenLifetime <= TimeSpan.FromHours(48),
                "Tokens:KsaTokenLifetime must be between 00:10:00 (the API server's minimum) and 2.00:00:00 (Google STS's maximum).")
            .ValidateOnStart();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<IKubernetes>(sp =>
            new k8s.Kubernetes(KubernetesClientFactory.Configuration(sp.GetRequiredService<IOptions<KubernetesOptions>>().Value)));
        builder.Services.AddSingleton<KubernetesCallLimiter>();
        builder.Services.AddSingleton<PodIndex>();
        builder.Services.AddSingleton<KsaTokenSource>();
        builder.Services.AddSingleton<WorkloadIdentityExchange>();

        builder.Services.AddSingleton(_ => new BackoffJitter(Random.Shared.NextDouble));
        builder.Services.AddSingleton<WarningEvents>();
        builder.Services.AddSingleton<AccountReferences>();
        builder.Services.AddSingleton<AccountEvents>();
        builder.Services.AddSingleton<PullSecretReconciler>();
        builder.Services.AddSingleton<LeaseElector>();
        builder.Services.AddSingleton<PullSecretController>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<LeaseElector>());
        builder.Services.AddHostedService(sp => sp.GetRequiredService<PullSecretController>());
        builder.Services.AddSingleton<IReadinessCheck>(sp => sp.GetRequiredService<LeaseElector>());
        return builder;
    }

    /// <summary>A Deployment has no node of its own: only the API server's configuration is checked.</summary>
    private sealed class PullSecretsKubernetesValidator : IValidateOptions<KubernetesOptions>
    {
        public ValidateOptionsResult Validate(string? name, KubernetesOptions options) =>
            KubernetesClientFactory.ProblemOrNull(options) is { } problem ? ValidateOptionsResult.Fail(problem) : ValidateOptionsResult.Success;
    }
}
