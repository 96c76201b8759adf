using System.Text.Json.Nodes;
using k8s.Models;

namespace MetadataProxy.TestServers.Kubernetes;

/// <summary>Writes a Status in the API server's field order. KubernetesClient can read a V1Status but its
/// converter cannot write one.</summary>
internal static class StatusJson
{
    public static string Serialize(V1Status status)
    {
        var json = new JsonObject
        {
            ["kind"] = "Status",
            ["apiVersion"] = "v1",
            ["metadata"] = new JsonObject(),
            ["status"] = status.Status,
            ["message"] = status.Message,
            ["reason"] = status.Reason,
        };
        if (status.Details is { } details)
        {
            var detailsJson = new JsonObject();
            AddIfSet(detailsJson, "name", details.Name);
            AddIfSet(detailsJson, "group", details.Group);
            AddIfSet(detailsJson, "kind", details.Kind);
            AddIfSet(detailsJson, "uid", details.Uid);
            if (details.RetryAfterSeconds is { } retryAfter)
            {
                detailsJson["retryAfterSeconds"] = retryAfter;
            }
            if (details.Causes is { Count: > 0 } causes)
            {
                detailsJson["causes"] = new JsonArray([.. causes.Select(Cause)]);
            }

            json["details"] = detailsJson;
        }

        json["code"] = status.Code;
        return json.ToJsonString();
    }

    private static JsonNode Cause(V1StatusCause cause)
    {
        var json = new JsonObject();
        AddIfSet(json, "reason", cause.Reason);
        AddIfSet(json, "message", cause.Message);
        AddIfSet(json, "field", cause.Field);
        return json;
    }

    private static void AddIfSet(JsonObject json, string name, string? value)
    {
        if (!string.IsNullOrEmpty(value))
        {
            json[name] = value;
        }
    }
}
