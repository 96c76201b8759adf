using System.Net;
using k8s;
using k8s.Autorest;

namespace MetadataProxy.Kubernetes;

/// <summary>
/// "The history this watch would resume from is gone: relist", in either of the two forms the API server answers it:
/// an ERROR event carrying a 410 Status on a 200 stream (KubernetesClient hands it to onError as a
/// <see cref="KubernetesException"/>), or HTTP 410 on the watch request itself (the enumeration throws
/// <see cref="HttpOperationException"/>). client-go's reflector treats both alike (isExpiredError:
/// reason Expired or Gone, or code 410); so do the pod informer and the ServiceAccount feed.
/// </summary>
internal static class ExpiredWatch
{
    public static bool Is(Exception? error) => error switch
    {
        null => false,
        KubernetesException { Status: { } status } => status.Code == (int)HttpStatusCode.Gone || status.Reason is "Expired" or "Gone",
        HttpOperationException { Response: { } response } => response.StatusCode == HttpStatusCode.Gone,
        _ => Is(error.InnerException),
    };
}
