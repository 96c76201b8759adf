using k8s.Models;

namespace MetadataProxy.TestServers.Kubernetes;

/// <summary>The <c>Status</c> objects the kube-apiserver answers errors with (apimachinery/pkg/api/errors).</summary>
internal static class KubeStatus
{
    public static V1Status NotFound(string resource, string name) =>
        Failure(404, "NotFound", $"{resource} \"{name}\" not found", new V1StatusDetails { Name = name, Kind = resource });

    public static V1Status NoSuchPath() =>
        Failure(404, "NotFound", "the server could not find the requested resource", new V1StatusDetails());

    public static V1Status Unauthorized() => Failure(401, "Unauthorized", "Unauthorized");

    public static V1Status BadRequest(string message) => Failure(400, "BadRequest", message);

    public static V1Status Conflict(string kind, string name, string cause) =>
        Failure(409, "Conflict", $"Operation cannot be fulfilled on {kind} \"{name}\": {cause}", new V1StatusDetails { Name = name, Kind = kind });

    public static V1Status Invalid(string group, string kind, string name, string field, string value, string detail) =>
        Failure(
            422,
            "Invalid",
            $"{kind}.{group} \"{name}\" is invalid: {field}: Invalid value: {value}: {detail}",
            new V1StatusDetails
            {
                Name = name.Length == 0 ? null : name,
                Group = group,
                Kind = kind,
                Causes = [new V1StatusCause { Reason = "FieldValueInvalid", Message = $"Invalid value: {value}: {detail}", Field = field }],
            });

    /// <summary>The API Priority and Fairness rejection: 429 with <c>details.retryAfterSeconds</c> (and a Retry-After header).</summary>
    public static V1Status TooManyRequests(int retryAfterSeconds) =>
        Failure(429, "TooManyRequests", "Too many requests, please try again later.", new V1StatusDetails { RetryAfterSeconds = retryAfterSeconds });

    public static V1Status Expired(long requested, long oldest) =>
        Failure(410, "Expired", $"too old resource version: {requested} ({oldest})");

    public static V1Status Failure(int code, string reason, string message, V1StatusDetails? details = null) => new()
    {
        Kind = "Status",
        ApiVersion = "v1",
        Metadata = new V1ListMeta(),
        Status = "Failure",
        Message = message,
        Reason = reason,
        Details = details,
        Code = code,
    };
}
