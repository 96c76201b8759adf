using Microsoft.Extensions.Options;

namespace MetadataProxy.Upstream;

internal sealed class UpstreamOptionsValidator : IValidateOptions<UpstreamOptions>
{
    public ValidateOptionsResult Validate(string? name, UpstreamOptions options)
    {
        var problems = new List<string>();
        if (!Uri.TryCreate(options.Address, UriKind.Absolute, out var address) || address.Scheme != Uri.UriSchemeHttp
            || address.AbsolutePath != "/" || address.Query.Length > 0 || !string.IsNullOrEmpty(address.UserInfo))
        {
            problems.Add($"Upstream:Address '{options.Address}' must be an http:// URL with a host and no path, such as http://169.254.169.254.");
        }

        foreach (var entry in options.Allow)
        {
            var segments = UpstreamPolicy.SegmentsOf(entry);
            if (segments.Length == 0 || !segments.All(UpstreamPolicy.IsPlainKey))
                problems.Add($"Upstream:Allow '{entry}' must be a path below /computeMetadata/v1/ of plain keys, such as instance/network-interfaces.");
            else if (segments.FirstOrDefault(UpstreamPolicy.IsConcealed) is { } concealed)
                problems.Add($"Upstream:Allow '{entry}' names '{concealed}', which is concealed and never forwarded; remove it.");
            else if (segments is ["instance"] or ["project"])
                problems.Add($"Upstream:Allow '{entry}' is a whole top-level directory; name its parts (such as {entry}/attributes).");
        }

        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
