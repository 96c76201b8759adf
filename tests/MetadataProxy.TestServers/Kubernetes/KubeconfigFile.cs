namespace MetadataProxy.TestServers.Kubernetes;

/// <summary>A kubeconfig with one cluster, one token user and one context.</summary>
internal static class KubeconfigFile
{
    public static string Render(Uri server, string token) => $"""
        apiVersion: v1
        kind: Config
        clusters:
        - name: test
          cluster:
            server: {server.AbsoluteUri}
        users:
        - name: test
          user:
            token: {token}
        contexts:
        - name: test
          context:
            cluster: test
            user: test
            namespace: default
        current-context: test
        """;
}
