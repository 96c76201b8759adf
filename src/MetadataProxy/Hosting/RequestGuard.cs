using MetadataProxy.Metadata;

namespace MetadataProxy.Hosting;

/// <summary>
/// The checks every request passes before anything is served, in this order: X-Forwarded-For (G-5), method (G-20),
/// path normalisation (G-18), legacy API versions (L-1), the Metadata-Flavor header under /computeMetadata (G-2..G-4).
/// </summary>
internal static class RequestGuard
{
    public static MetadataResult.Failure? Check(HttpRequest request, out MetadataPath path)
    {
        path = new MetadataPath([], TrailingSlash: true);
        if (request.Headers.ContainsKey(MetadataHeaders.ForwardedFor))
            return new(FailureReason.Forwarded, "Forbidden: requests with an X-Forwarded-For header are rejected.");

        // Methods are case-sensitive (RFC 9110 §9.1): "get" is not GET.
        if (request.Method is not ("GET" or "HEAD"))
            return new(FailureReason.MethodNotAllowed, $"Method {request.Method} is not allowed: the metadata server answers GET and HEAD.");

        if (!MetadataPath.TryParse(request.Path.Value, out path, out var error))
            return new(FailureReason.BadRequest, error!);

        if (path.StartsWith("0.1") || path.StartsWith("computeMetadata", "v1beta1") || path.StartsWith("computeMetadata", "0.1"))
            return new(FailureReason.LegacyEndpoint, "Legacy metadata endpoints are disabled. Please use the /v1/ endpoint.");

        if (path.StartsWith("computeMetadata") && !HasFlavorHeader(request.Headers))
            return new(FailureReason.MissingMetadataFlavor,
                $"Your client does not have permission to get URL {request.Path} from this server. Missing Metadata-Flavor:Google header.");

        return null;
    }

    private static bool HasFlavorHeader(IHeaderDictionary headers)
    {
        var flavor = headers[MetadataHeaders.Flavor];
        if (flavor.Count > 0)
            return flavor.Count == 1 && string.Equals(flavor[0], MetadataHeaders.FlavorValue, StringComparison.Ordinal);

        // G-4: the deprecated header, still sent by node bootstrap scripts, compared case-insensitively.
        var legacy = headers[MetadataHeaders.LegacyRequest];
        return legacy.Count == 1 && string.Equals(legacy[0], "true", StringComparison.OrdinalIgnoreCase);
    }
}
