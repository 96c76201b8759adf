using System.Text.Json.Nodes;

namespace MetadataProxy.TestServers.Kubernetes;

/// <summary>The claims of a service-account token, as pkg/serviceaccount/claims.go builds them.</summary>
internal static class ServiceAccountClaims
{
    public static JsonObject Build(string issuer, IEnumerable<string> audiences, DateTimeOffset now, long expirationSeconds, TokenBinding binding)
    {
        var sa = binding.ServiceAccount.Metadata;
        var kubernetes = new JsonObject
        {
            ["namespace"] = sa.NamespaceProperty,
            ["serviceaccount"] = Ref(sa.Name, sa.Uid),
        };
        if (binding.Pod is { } pod)
        {
            kubernetes["pod"] = Ref(pod.Metadata.Name, pod.Metadata.Uid);
        }

        if (binding.Secret is { } secret)
        {
            kubernetes["secret"] = Ref(secret.Metadata.Name, secret.Metadata.Uid);
        }

        if (binding.Node is { } node)
        {
            kubernetes["node"] = Ref(node.Metadata.Name, node.Metadata.Uid);
        }

        var issuedAt = now.ToUnixTimeSeconds();
        return new JsonObject
        {
            ["aud"] = new JsonArray([.. audiences.Select(a => (JsonNode?)a)]),
            ["exp"] = issuedAt + expirationSeconds,
            ["iat"] = issuedAt,
            ["iss"] = issuer,
            ["jti"] = Guid.NewGuid().ToString(),
            ["kubernetes.io"] = kubernetes,
            ["nbf"] = issuedAt,
            ["sub"] = $"system:serviceaccount:{sa.NamespaceProperty}:{sa.Name}",
        };
    }

    private static JsonObject Ref(string name, string? uid)
    {
        var reference = new JsonObject { ["name"] = name };
        if (!string.IsNullOrEmpty(uid))
        {
            reference["uid"] = uid;
        }

        return reference;
    }
}
