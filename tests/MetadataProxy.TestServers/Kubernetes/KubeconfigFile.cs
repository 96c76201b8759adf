namespace MetadataProxy.TestServers.Kubernetes;

/// <summary>A kubeconfig with one cluster (and its CA when the server speaks TLS), one token user and one context.</summary>
internal static class KubeconfigFile
{
    public static string Render(Uri server, string token, string? authorityPem = null) => $"""
        apiVersion: v1
        kind: Config
        clusters:
        - name: test
          cluster:
            server: {server.AbsoluteUri}{(authorityPem is null ? "" : "\n    certificate-authority-data: " + Convert.ToBase64String(System.Text.Encoding.ASCII.GetBytes(authorityPem)))}
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
