namespace MetadataProxy.PullSecrets;

/// <summary><c>PullSecrets:*</c>: the controller that keeps per-ServiceAccount image pull Secrets fresh (issue 13).</summary>
internal sealed class PullSecretsOptions
{
    public const string Section = "PullSecrets";

    /// <summary>The namespace of the Lease (the controller's own; POD_NAMESPACE from the downward API).</summary>
    public string? Namespace { get; set; }

    public string LeaseName { get; set; } = "metadata-proxy-pull-secrets";

    /// <summary>This replica's name in the Lease (POD_NAME from the downward API).</summary>
    public string? Identity { get; set; }

    /// <summary>How long a leader's last renewal holds off the others; a follower takes over at most this long after the leader dies.</summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>A leader that could not renew for this long stops writing (before anyone else may take over).</summary>
    public TimeSpan RenewDeadline { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How often the leader renews and a follower looks at the Lease.</summary>
    public TimeSpan RetryPeriod { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How often the ServiceAccounts are listed again and every one looked at, whatever is due. Opt-ins and opt-outs
    /// arrive through the watch at once; this is only the safety net for an event the watch never delivered, and a
    /// relist costs the API server a full read of every account, so it is minutes, not seconds.
    /// </summary>
    public TimeSpan ResyncInterval { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>ServiceAccounts per list request (<c>limit</c>); the list follows <c>continue</c> until it has them all.</summary>
    public int ListPageSize { get; set; } = 500;

    /// <summary>Registry host patterns of an account annotated <c>"true"</c>, beside the gcr.io family (<c>europe-docker.pkg.dev;us-docker.pkg.dev</c>).</summary>
    public string? Registries { get; set; }

    /// <summary>
    /// OAuth scopes of the tokens written (',' or ';' separated). A Secret's token is readable by whoever may read
    /// Secrets in its namespace: narrow it where the registries accept less (devstorage.read_only for pulls).
    /// </summary>
    public string Scopes { get; set; } = "https://www.googleapis.com/auth/cloud-platform";

    /// <summary>First wait after a failed refresh; it doubles (with jitter) up to <see cref="RetryDelayMax"/>.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(5);

    public TimeSpan RetryDelayMax { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>A credential with less life than this is never written.</summary>
    public TimeSpan MinimumLifetime { get; set; } = TimeSpan.FromMinutes(10);

    public IReadOnlyList<string> ScopeList() => Scopes.Split([',', ';', ' '], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
