using System.Net;
using MetadataProxy.Identity;
using Microsoft.Extensions.Options;

namespace MetadataProxy.Standalone;

internal sealed class StandaloneOptionsValidator : IValidateOptions<StandaloneOptions>
{
    public ValidateOptionsResult Validate(string? name, StandaloneOptions options)
    {
        var problems = new List<string>();
        for (var i = 0; i < options.Identities.Count; i++)
        {
            var identity = options.Identities[i];
            var key = $"Standalone:Identities:{i}";
            if (string.IsNullOrWhiteSpace(identity.Cidr))
                problems.Add($"{key}:Cidr is required (for example 127.0.0.0/8).");
            else
            {
                foreach (var cidr in identity.Cidr.Split(',', StringSplitOptions.TrimEntries))
                {
                    if (!IPNetwork.TryParse(cidr, out _))
                        problems.Add($"{key}:Cidr '{cidr}' is not a CIDR range such as 127.0.0.0/8.");
                }
            }

            if (identity.GoogleServiceAccount is { } gsa && gsa.Length > 0 && !GoogleServiceAccountEmail.IsValid(gsa))
                problems.Add($"{key}:GoogleServiceAccount '{gsa}' is not a Google service account e-mail (name@project.iam.gserviceaccount.com).");
            if (identity.Scopes is { } scopes && scopes.Any(s => !Uri.TryCreate(s, UriKind.Absolute, out _)))
                problems.Add($"{key}:Scopes must be absolute scope URLs such as https://www.googleapis.com/auth/cloud-platform.");
            if (string.IsNullOrWhiteSpace(identity.Namespace) || string.IsNullOrWhiteSpace(identity.ServiceAccount))
                problems.Add($"{key}: Namespace and ServiceAccount must not be empty.");
        }

        if (!string.IsNullOrEmpty(options.CredentialsFile) && !File.Exists(options.CredentialsFile))
            problems.Add($"Standalone:CredentialsFile '{options.CredentialsFile}' does not exist.");

        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
