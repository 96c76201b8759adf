using System.Text.RegularExpressions;
using MetadataProxy.Identity;

namespace MetadataProxy.ServiceAccounts;

/// <summary>The GKE annotations a Kubernetes ServiceAccount may carry, parsed and validated.</summary>
internal sealed partial record ServiceAccountAnnotations(string? GoogleServiceAccount, bool ReturnPrincipalIdAsEmail, string? QuotaProject)
{
    public const string GoogleServiceAccountKey = "iam.gke.io/gcp-service-account";
    public const string ReturnPrincipalIdAsEmailKey = "iam.gke.io/return-principal-id-as-email";
    public const string CredentialQuotaProjectKey = "iam.gke.io/credential-quota-project";

    /// <summary>Null and a problem sentence when an annotation cannot be honoured: the caller is refused, never guessed at.</summary>
    public static ServiceAccountAnnotations? Parse(IDictionary<string, string>? annotations, out string? problem)
    {
        problem = null;
        string? gsa = null;
        var principalAsEmail = false;
        string? quotaProject = null;
        if (annotations is null)
            return new ServiceAccountAnnotations(null, false, null);

        if (annotations.TryGetValue(GoogleServiceAccountKey, out var email))
        {
            email = email.Trim();
            if (!GoogleServiceAccountEmail.IsValid(email))
            {
                problem = $"annotation {GoogleServiceAccountKey} '{email}' is not a Google service account e-mail (name@project.iam.gserviceaccount.com)";
                return null;
            }

            gsa = email;
        }

        if (annotations.TryGetValue(ReturnPrincipalIdAsEmailKey, out var flag))
        {
            if (!bool.TryParse(flag.Trim(), out principalAsEmail))
            {
                problem = $"annotation {ReturnPrincipalIdAsEmailKey} '{flag}' must be true or false";
                return null;
            }
        }

        if (annotations.TryGetValue(CredentialQuotaProjectKey, out var project))
        {
            project = project.Trim();
            if (!ProjectPattern().IsMatch(project))
            {
                problem = $"annotation {CredentialQuotaProjectKey} '{project}' is not a Google project id";
                return null;
            }

            quotaProject = project;
        }

        return new ServiceAccountAnnotations(gsa, principalAsEmail, quotaProject);
    }

    [GeneratedRegex(@"^([a-z0-9.-]+:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$", RegexOptions.CultureInvariant)]
    private static partial Regex ProjectPattern();
}
