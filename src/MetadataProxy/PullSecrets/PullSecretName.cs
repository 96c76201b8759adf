using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace MetadataProxy.PullSecrets;

/// <summary>
/// The Secret's name: readable from the account's name, and a hash of the full name so that two accounts whose
/// names shorten alike never share a Secret. Deterministic: every replica derives the same name.
/// </summary>
internal static partial class PullSecretName
{
    private const string Suffix = "-gcp-pull";
    private const int MaxReadable = 200;

    public static string For(string serviceAccount)
    {
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(serviceAccount)))[..10];
        var readable = serviceAccount.Length > MaxReadable ? serviceAccount[..MaxReadable].TrimEnd('.', '-') : serviceAccount;
        return $"{readable}{Suffix}-{hash}";
    }

    public static bool IsDnsSubdomain(string? name) => name is { Length: > 0 and <= 253 } && SubdomainRegex().IsMatch(name);

    [GeneratedRegex(@"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$", RegexOptions.CultureInvariant)]
    private static partial Regex SubdomainRegex();
}
