namespace MetadataProxy.TestServers.Kubernetes;

/// <summary>What a pod's service-account volume holds, for a server that reads the in-cluster configuration.</summary>
public sealed partial class KubernetesTestServer
{
    /// <summary>
    /// Writes <c>token</c>, <c>ca.crt</c> and <c>namespace</c> into <paramref name="directory"/>, as the kubelet mounts
    /// them at /var/run/secrets/kubernetes.io/serviceaccount; only a server started with <see cref="StartTlsAsync"/> has
    /// a CA (in-cluster configuration is HTTPS only).
    /// </summary>
    public void WriteServiceAccountVolume(string directory, string ns)
    {
        if (_certificates is null)
            throw new InvalidOperationException("In-cluster configuration speaks HTTPS: start the server with StartTlsAsync.");
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, "token"), BearerToken);
        File.WriteAllText(Path.Combine(directory, "ca.crt"), _certificates.AuthorityPem);
        File.WriteAllText(Path.Combine(directory, "namespace"), ns);
    }
}
