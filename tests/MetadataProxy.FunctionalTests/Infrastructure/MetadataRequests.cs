namespace MetadataProxy.FunctionalTests.Infrastructure;

internal static class MetadataRequests
{
    public static HttpRequestMessage Get(string path, bool flavor = true)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (flavor)
            request.Headers.Add("Metadata-Flavor", "Google");
        return request;
    }

    public static async Task<HttpResponseMessage> GetAsync(this HttpClient client, string path, bool flavor)
    {
        using var request = Get(path, flavor);
        return await client.SendAsync(request, TestContext.Current.CancellationToken);
    }

    public static async Task<(HttpResponseMessage Response, string Body)> GetWithBodyAsync(this HttpClient client, string path, bool flavor = true)
    {
        var response = await client.GetAsync(path, flavor);
        return (response, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    public static string? ContentType(this HttpResponseMessage response) =>
        response.Content.Headers.TryGetValues("Content-Type", out var values) ? string.Join(",", values) : null;

    public static string? Single(this HttpResponseMessage response, string header) =>
        response.Headers.TryGetValues(header, out var values) || response.Content.Headers.TryGetValues(header, out values)
            ? string.Join(",", values) : null;
}
