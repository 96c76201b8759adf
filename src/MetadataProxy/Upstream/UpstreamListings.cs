using System.Text.Json;
using System.Text.Json.Nodes;
using MetadataProxy.Hosting;
using MetadataProxy.Metadata;
using MetadataProxy.Operations;

namespace MetadataProxy.Upstream;

/// <summary>
/// Recursive listings of directories this server serves and the VM's metadata server also fills (<c>instance/</c>,
/// <c>instance/attributes/</c>, ...): the VM's allowed values merged under this server's. The VM is asked for at
/// most <see cref="MergeTimeout"/>; a slow, absent or strange answer leaves this server's own listing as it is.
/// </summary>
internal sealed class UpstreamListings(UpstreamServer upstream, ProxyMetrics metrics, TimeProvider time)
{
    public static readonly TimeSpan MergeTimeout = TimeSpan.FromSeconds(1);
    private const int MaxBody = 1 << 20;

    /// <summary>The directory (below v1/) whose listing is merged, or null when the answer stays local.</summary>
    public string[]? MergesAt(HttpRequest request, MetadataPath path)
    {
        var query = request.Query;
        var recursive = MetadataQuery.IsTrue(query["recursive"]);
        if (!path.StartsWith("computeMetadata", "v1") || !path.TrailingSlash || MetadataQuery.IsTrue(query["wait_for_change"])
            || !(query["alt"].Count == 0 || (recursive && string.Equals(query["alt"], "json", StringComparison.OrdinalIgnoreCase))))
            return null; // a wait keeps this server's ETag protocol; alt=text listings stay local
        var at = path.Segments.Skip(2).ToArray();
        return upstream.Allow.LeadsTo(at) ? at : null;
    }

    public async Task<MetadataResult> MergeAsync(string[] at, MetadataResult.Content local, CancellationToken budget)
    {
        if (upstream.State != UpstreamState.Verified)
            return local;
        var started = time.GetTimestamp();
        using var attempt = new RequestDeadline(MergeTimeout, time, budget); // inside the request's budget, on the same clock
        string outcome;
        try
        {
            var recursive = local.ContentType == ContentTypes.Json;
            using var request = new HttpRequestMessage(HttpMethod.Get,
                upstream.Address + MetadataRequest.Root + string.Concat(at.Select(s => s + "/")) + (recursive ? "?recursive=true&alt=json" : ""));
            request.Headers.TryAddWithoutValidation(MetadataHeaders.Flavor, MetadataHeaders.FlavorValue);
            using var response = await upstream.Client.SendAsync(request, attempt.Token);
            var code = (int)response.StatusCode;
            outcome = UpstreamOutcomes.OfStatus(response.StatusCode);
            if (code == 200 && !recursive && response.Content.Headers.ContentLength is null or <= MaxBody)
            {
                var entries = ListingMerge.Merge(await response.Content.ReadAsStringAsync(attempt.Token), System.Text.Encoding.UTF8.GetString(local.Body), at, upstream.Allow);
                metrics.UpstreamRequest(outcome, "merge", time.GetElapsedTime(started));
                return MetadataRenderer.TextContent(entries);
            }

            if (code == 200 && recursive && response.Content.Headers.ContentLength is null or <= MaxBody
                && await ReadAsync(response, attempt.Token) is JsonObject vm && JsonNode.Parse(local.Body) is JsonObject own)
            {
                var merged = RecursiveMerge.Merge(vm, own, at, upstream.Allow).ToJsonString();
                metrics.UpstreamRequest(outcome, "merge", time.GetElapsedTime(started));
                return MetadataRenderer.JsonContent(System.Text.Encoding.UTF8.GetBytes(merged));
            }
        }
        catch (OperationCanceledException) when (attempt.Expired(budget))
        {
            outcome = "timeout";
        }
        catch (HttpRequestException)
        {
            outcome = "unreachable";
        }
        catch (IOException)
        {
            // A body cut short reaches here as HttpIOException, not HttpRequestException, when the cut comes after
            // the headers: the local listing, as when the VM does not answer, never a 500.
            outcome = "broken";
        }
        catch (JsonException)
        {
            outcome = "5xx"; // not the JSON a metadata server sends: as good as a server error
        }

        metrics.UpstreamRequest(outcome, "merge", time.GetElapsedTime(started));
        return local;
    }

    private static async Task<JsonNode?> ReadAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > MaxBody)
                throw new JsonException("The recursive listing is larger than 1 MiB.");
            buffer.Write(chunk, 0, read);
        }

        return JsonNode.Parse(buffer.ToArray());
    }
}
