using System.Text.Json;
using k8s.Models;

namespace MetadataProxy.TestServers.Kubernetes;

/// <summary>What pkg/apis/core/validation checks of a <c>kubernetes.io/dockerconfigjson</c> Secret.</summary>
internal static class SecretValidation
{
    public static string? Problem(V1Secret secret)
    {
        if (secret.Type != "kubernetes.io/dockerconfigjson")
            return null;
        if (secret.Data?.TryGetValue(".dockerconfigjson", out var config) != true || config is null)
            return "data[.dockerconfigjson]: Required value";
        try
        {
            using var _ = JsonDocument.Parse(config);
            return null;
        }
        catch (JsonException e)
        {
            return $"data[.dockerconfigjson]: Invalid value: \"<secret contents redacted>\": {e.Message}";
        }
    }
}
