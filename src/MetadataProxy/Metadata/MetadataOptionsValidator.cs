using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace MetadataProxy.Metadata;

internal sealed partial class MetadataOptionsValidator : IValidateOptions<MetadataOptions>
{
    public ValidateOptionsResult Validate(string? name, MetadataOptions options)
    {
        var problems = new List<string>();
        if (options.ProjectId is { Length: > 0 } project && !ProjectIdPattern().IsMatch(project))
            problems.Add($"Metadata:ProjectId '{project}' is not a Google project id (6-30 lowercase letters, digits or hyphens).");
        if (options.NumericProjectId is { Length: > 0 } number && !ulong.TryParse(number, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out _))
            problems.Add($"Metadata:NumericProjectId '{number}' must be digits only (gcloud checks it with isdigit).");
        if (options.InstanceId is { Length: > 0 } id && !ulong.TryParse(id, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out _))
            problems.Add($"Metadata:InstanceId '{id}' must be an unsigned 64-bit decimal number.");
        if (options.Zone is { Length: > 0 } zone && !ZonePattern().IsMatch(zone))
            problems.Add($"Metadata:Zone '{zone}' must be a zone such as us-central1-a or projects/123456789012/zones/us-central1-a.");
        if (options.Zone is { Length: > 0 } shortZone && !shortZone.StartsWith("projects/", StringComparison.Ordinal) && string.IsNullOrEmpty(options.NumericProjectId))
            problems.Add("Metadata:Zone given without a project: set Metadata:NumericProjectId, or give the zone as projects/N/zones/Z.");
        if (string.IsNullOrWhiteSpace(options.ServerHeader) || options.ServerHeader.Any(c => c < 0x20 || c > 0x7e))
            problems.Add("Metadata:ServerHeader must be non-empty printable ASCII.");
        if (string.IsNullOrWhiteSpace(options.UniverseDomain))
            problems.Add("Metadata:UniverseDomain must not be empty (googleapis.com).");
        foreach (var key in options.ProjectAttributes.Keys)
        {
            if (key.Length == 0 || key.Contains('/', StringComparison.Ordinal))
                problems.Add($"Metadata:ProjectAttributes key '{key}' must be non-empty and contain no '/' (in the list form every entry needs a Key).");
            else if (ConcealedAttributes.Keys.Contains(key))
                problems.Add($"Metadata:ProjectAttributes:{key} is a concealed bootstrap attribute and is never served; remove it.");
        }

        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }

    public static bool IsZone(string zone) => ZonePattern().IsMatch(zone);

    [GeneratedRegex(@"^([a-z0-9.-]+:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$", RegexOptions.CultureInvariant)]
    private static partial Regex ProjectIdPattern();

    [GeneratedRegex(@"^(projects/[0-9]+/zones/)?[a-z]+-[a-z]+[0-9]+-[a-z]$", RegexOptions.CultureInvariant)]
    private static partial Regex ZonePattern();
}
