using System.Globalization;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace MetadataProxy.Kubernetes;

/// <summary>
/// How long a throttling API server (429, API Priority and Fairness) asked us to wait: the Retry-After header, else
/// the Status's <c>details.retryAfterSeconds</c>. KubernetesClient does not retry by itself, so callers honour it.
/// </summary>
internal static class RetryAfter
{
    /// <summary>The longest wait honoured, so a bad header cannot park the informer for hours.</summary>
    public static readonly TimeSpan Maximum = TimeSpan.FromMinutes(1);

    public static TimeSpan? Of(Exception exception)
    {
        if (exception is not HttpOperationException { Response: { } response })
            return null;
        if ((int)response.StatusCode != 429 && (int)response.StatusCode != 503)
            return null;
        if (response.Headers is { } headers && headers.TryGetValue("Retry-After", out var values) &&
            int.TryParse(values.FirstOrDefault(), NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
            return Clamp(seconds);
        try
        {
            return KubernetesJson.Deserialize<V1Status>(response.Content ?? "") is { Details.RetryAfterSeconds: { } detail } ? Clamp(detail) : null;
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }

    private static TimeSpan Clamp(int seconds) => TimeSpan.FromSeconds(Math.Clamp(seconds, 0, (int)Maximum.TotalSeconds));
}
