using k8s;
using k8s.Models;

namespace MetadataProxy.TestServers.Kubernetes;

/// <summary>Writes objects as the kube-apiserver does: JSON in the KubernetesClient's own serialisation.</summary>
internal static class KubeResults
{
    public const string JsonContentType = "application/json";

    public static IResult Object(object value, int statusCode = StatusCodes.Status200OK) =>
        Results.Content(KubernetesJson.Serialize(value), JsonContentType, statusCode: statusCode);

    public static IResult Status(V1Status status) =>
        Results.Content(StatusJson.Serialize(status), JsonContentType, statusCode: status.Code ?? StatusCodes.Status500InternalServerError);

    public static Task WriteStatusAsync(HttpContext context, V1Status status)
    {
        context.Response.StatusCode = status.Code ?? StatusCodes.Status500InternalServerError;
        context.Response.ContentType = JsonContentType;
        return context.Response.WriteAsync(StatusJson.Serialize(status), context.RequestAborted);
    }
}
