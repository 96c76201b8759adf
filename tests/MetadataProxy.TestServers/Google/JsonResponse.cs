using System.Text;

namespace MetadataProxy.TestServers.Google;

internal static class JsonResponse
{
    public static async Task WriteAsync(HttpResponse response, int status, string json, CancellationToken ct)
    {
        response.StatusCode = status;
        response.ContentType = "application/json; charset=utf-8";
        response.Headers.CacheControl = "no-cache, no-store, max-age=0, must-revalidate";
        if (status == StatusCodes.Status401Unauthorized)
        {
            response.Headers.WWWAuthenticate = "Bearer realm=\"https://accounts.google.com/\"";
        }

        await response.Body.WriteAsync(Encoding.UTF8.GetBytes(json), ct);
    }
}
