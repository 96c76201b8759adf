namespace MetadataProxy.Hosting;

internal enum ProxyMode
{
    /// <summary>One machine; identities and credentials from configuration.</summary>
    Standalone,

    /// <summary>A DaemonSet; identities from the calling pod's ServiceAccount.</summary>
    Kubernetes,

    /// <summary>A Deployment that keeps image pull Secrets of opted-in ServiceAccounts fresh; no metadata listener.</summary>
    PullSecrets,
}
