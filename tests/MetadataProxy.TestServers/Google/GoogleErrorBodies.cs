using System.Text.Json.Nodes;

namespace MetadataProxy.TestServers.Google;

/// <summary>The two error shapes Google speaks: OAuth 2.0 (STS) and google.rpc.Status (IAM Credentials).</summary>
public static class GoogleErrorBodies
{
    public static string OAuth(string error, string description) =>
        new JsonObject { ["error"] = error, ["error_description"] = description }.ToJsonString(GoogleJson.Options);

    /// <summary><c>{"error":{"code","message","status","details":[ErrorInfo]}}</c>; details only when a reason is given.</summary>
    public static string Rpc(int code, string message, string? reason = null, string? permission = null)
    {
        var error = new JsonObject { ["code"] = code, ["message"] = message, ["status"] = RpcStatus(code) };
        if (reason is not null)
        {
            var info = new JsonObject
            {
                ["@type"] = "type.googleapis.com/google.rpc.ErrorInfo",
                ["reason"] = reason,
                ["domain"] = permission is null ? "googleapis.com" : "iam.googleapis.com",
            };
            if (permission is not null)
            {
                info["metadata"] = new JsonObject { ["permission"] = permission };
            }

            error["details"] = new JsonArray(info);
        }

        return new JsonObject { ["error"] = error }.ToJsonString(GoogleJson.Options);
    }

    /// <summary>The canonical google.rpc.Code name Google pairs with an HTTP status.</summary>
    public static string RpcStatus(int httpStatus) => httpStatus switch
    {
        400 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        409 => "ABORTED",
        412 => "FAILED_PRECONDITION",
        429 => "RESOURCE_EXHAUSTED",
        499 => "CANCELLED",
        501 => "NOT_IMPLEMENTED",
        503 => "UNAVAILABLE",
        504 => "DEADLINE_EXCEEDED",
        _ when httpStatus >= 500 => "INTERNAL",
        _ => "UNKNOWN",
    };

    /// <summary>The OAuth 2.0 error code an STS-like endpoint answers with for a forced status.</summary>
    public static string OAuthErrorFor(int httpStatus) => httpStatus switch
    {
        400 => "invalid_request",
        401 => "invalid_client",
        403 => "access_denied",
        503 => "temporarily_unavailable",
        _ when httpStatus >= 500 => "server_error",
        _ => "invalid_request",
    };
}
