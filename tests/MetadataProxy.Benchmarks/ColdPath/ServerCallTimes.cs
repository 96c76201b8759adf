using System.Globalization;

namespace MetadataProxy.Benchmarks.ColdPath;

/// <summary>
/// The server's own view of its upstream calls: the sum and count of <c>metadata_proxy_upstream_call_duration_seconds</c>
/// by call, scraped from the admin port. The difference of two scrapes gives the mean time of each call inside the
/// server (its HTTP handler's view, below Google.Apis.Auth and KubernetesClient), for the breakdown of the overhead.
/// </summary>
internal sealed record ServerCallTimes(IReadOnlyDictionary<string, (double Seconds, double Count)> Calls)
{
    private const string Histogram = "metadata_proxy_upstream_call_duration_seconds";

    public static async Task<ServerCallTimes> ScrapeAsync(HttpClient admin)
    {
        var text = await admin.GetStringAsync("/metrics");
        var calls = new Dictionary<string, (double Seconds, double Count)>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n'))
        {
            var isSum = line.StartsWith(Histogram + "_sum{", StringComparison.Ordinal);
            if (!isSum && !line.StartsWith(Histogram + "_count{", StringComparison.Ordinal))
                continue;
            var labelStart = line.IndexOf("call=\"", StringComparison.Ordinal) + 6;
            var call = line[labelStart..line.IndexOf('"', labelStart)];
            var value = double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
            var (seconds, count) = calls.GetValueOrDefault(call);
            calls[call] = isSum ? (value, count) : (seconds, value);
        }

        return new ServerCallTimes(calls);
    }

    /// <summary>Mean milliseconds of <paramref name="call"/> between <paramref name="before"/> and this scrape.</summary>
    public double MeanMsSince(ServerCallTimes before, string call)
    {
        var (seconds, count) = Calls.GetValueOrDefault(call);
        var (secondsBefore, countBefore) = before.Calls.GetValueOrDefault(call);
        return count > countBefore ? (seconds - secondsBefore) * 1000 / (count - countBefore) : double.NaN;
    }
}
