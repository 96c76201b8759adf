using System.Text.RegularExpressions;

namespace MetadataProxy.Identity;

/// <summary>What a Google service-account e-mail looks like: <c>name@project.iam.gserviceaccount.com</c> and Google's older domains.</summary>
internal static partial class GoogleServiceAccountEmail
{
    public static bool IsValid(string? email) => email is not null && Pattern().IsMatch(email);

    [GeneratedRegex(@"^[a-z0-9][a-z0-9._-]{0,99}@[a-z0-9][a-z0-9.-]{0,99}\.gserviceaccount\.com$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
