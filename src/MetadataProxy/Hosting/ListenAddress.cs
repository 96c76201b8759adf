using System.Globalization;
using System.Net;

namespace MetadataProxy.Hosting;

/// <summary>Parses listener URLs into socket endpoints: plain HTTP on an IP literal, <c>localhost</c>, or <c>*</c>/<c>+</c> for any.</summary>
internal static class ListenAddress
{
    public static bool TryParse(string? urls, out IReadOnlyList<IPEndPoint> endpoints, out string? error)
    {
        var result = new List<IPEndPoint>();
        endpoints = result;
        if (string.IsNullOrWhiteSpace(urls))
        {
            error = "no URL given";
            return false;
        }

        foreach (var url in urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!url.StartsWith("http://", StringComparison.OrdinalIgnoreCase))
            {
                error = $"'{url}' is not an http:// URL (the metadata protocol is plain HTTP)";
                return false;
            }

            var authority = url["http://".Length..].TrimEnd('/');
            var colon = authority.LastIndexOf(':');
            if (colon < 0 || !ushort.TryParse(authority[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port))
            {
                error = $"'{url}' has no valid port";
                return false;
            }

            var host = authority[..colon].Trim('[', ']');
            switch (host)
            {
                case "*" or "+" or "0.0.0.0":
                    result.Add(new IPEndPoint(IPAddress.Any, port));
                    break;
                case "localhost":
                    result.Add(new IPEndPoint(IPAddress.Loopback, port));
                    break;
                default:
                    if (!IPAddress.TryParse(host, out var address))
                    {
                        error = $"'{url}' must name an IP address, localhost or *";
                        return false;
                    }

                    result.Add(new IPEndPoint(address, port));
                    break;
            }
        }

        error = result.Count == 0 ? "no URL given" : null;
        return result.Count > 0;
    }
}
